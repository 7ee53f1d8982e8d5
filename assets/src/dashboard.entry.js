// The campaign dashboard: one ECharts chart per [data-figure], its data fetched as JSON from the
// server's aggregates. Every bar, point and slice carries the URL of the list behind it.

// ECharts shows a tooltip formatter's result as HTML: what units typed (their names) is escaped.
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
}
(function () {
  "use strict";
  var figures = document.querySelector(".figures");
  if (!figures) { return; }
  // The page's words for the charts: data-text-count, data-text-overdue, ... on .figures.
  var TEXT = {
    count: figures.dataset.textCount, overdue: figures.dataset.textOverdue, progress: figures.dataset.textProgress,
    failed: figures.dataset.textFailed, empty: figures.dataset.textEmpty,
  };
  var LIGHT_COLOURS = { red: "#b71c1c", yellow: "#c77700", green: "#2e7d32", none: "#9e9e9e" };
  var STATUS_COLOURS = ["#c77700", "#1f4e8c", "#2e7d32", "#b71c1c"];
  var charts = {};

  function stacked(categories, keys, names, counts, colours) {
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 48, containLabel: true },
      xAxis: { type: "category", data: categories, axisLabel: { interval: 0, rotate: categories.length > 5 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1, name: TEXT.count },
      series: keys.map(function (key, i) {
        return { name: names[i], type: "bar", stack: "all", data: counts[key],
                 itemStyle: { color: colours[i] }, emphasis: { focus: "series" } };
      }),
    };
  }

  var BUILD = {
    units_by_phase: function (d) {
      return stacked(d.phase_names, d.lights, d.light_names, d.counts,
                     d.lights.map(function (s) { return LIGHT_COLOURS[s]; }));
    },
    overdue_series: function (d) {
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 16, top: 24, bottom: 40, containLabel: true },
        xAxis: { type: "category", data: d.days.map(function (day) { return day.slice(5); }), boundaryGap: false },
        yAxis: { type: "value", minInterval: 1, name: TEXT.overdue },
        series: [{ name: TEXT.overdue, type: "line", data: d.counts, symbolSize: 8, areaStyle: { opacity: 0.15 },
                   itemStyle: { color: LIGHT_COLOURS.red }, triggerLineEvent: true }],
      };
    },
    ledger_by_source: function (d) {
      return stacked(d.source_names, d.statuses, d.status_names, d.counts, STATUS_COLOURS);
    },
    escalations_by_level: function (d) {
      return stacked(d.level_names, d.statuses, d.status_names, d.counts, ["#c77700", "#2e7d32", "#b71c1c"]);
    },
    progress_ranking: function (d) {
      var rows = d.rows.slice().reverse(); // the first of the ranking at the top
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
                   formatter: function (p) { var r = rows[p[0].dataIndex]; return escapeHtml(r.name) + "<br>" + escapeHtml(r.phase_name) + " · " + Number(r.progress) + "%"; } },
        grid: { left: 8, right: 40, top: 8, bottom: 24, containLabel: true },
        xAxis: { type: "value", max: 100, name: "%" },
        yAxis: { type: "category", data: rows.map(function (r) { return r.name; }) },
        series: [{ name: TEXT.progress, type: "bar", data: rows.map(function (r) { return r.progress; }),
                   itemStyle: { color: "#1f4e8c" }, label: { show: true, position: "right", formatter: "{c}%" } }],
      };
    },
  };

  // The list behind a clicked element, from the figure's `drill` (per series key, or per row).
  function drillUrl(name, data, params) {
    if (name === "progress_ranking") {
      var rows = data.rows.slice().reverse();
      return rows[params.dataIndex] && rows[params.dataIndex].drill;
    }
    if (name === "overdue_series") return data.drill[params.dataIndex];
    var key = (data.lights || data.statuses)[params.seriesIndex]; // the stacked series, in order
    return key && data.drill[key] ? data.drill[key][params.dataIndex] : null;
  }

  function draw(element, url) {
    var name = element.dataset.figure;
    var chart = charts[name] || echarts.init(element);
    charts[name] = chart;
    chart.showLoading();
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (resp) { if (!resp.ok) throw new Error(resp.status); return resp.json(); })
      .then(function (data) {
        chart.hideLoading();
        chart.off("finished");
        // Ready once drawn and the bars have grown to their height (a click lands where they end).
        chart.on("finished", function () { element.dataset.ready = "1"; });
        chart.setOption(BUILD[name](data), true);
        chart.off("click");
        chart.on("click", function (params) {
          var target = drillUrl(name, data, params);
          if (target) window.location.href = target;
        });
      })
      .catch(function () {
        chart.hideLoading();
        chart.dispose();
        delete charts[name];
        var message = document.createElement("p");
        message.className = "chart-error";
        message.textContent = TEXT.failed;
        element.replaceChildren(message);
        element.dataset.ready = "error";
      });
  }

  document.querySelectorAll("[data-figure]").forEach(function (el) { draw(el, el.dataset.url); });
  var order = document.querySelector(".rank-order");
  if (order) {
    order.addEventListener("change", function () {
      var el = document.querySelector('[data-figure="progress_ranking"]');
      var url = new URL(el.dataset.url, window.location.href);
      url.searchParams.set("order", order.value);
      draw(el, url.pathname + url.search);
    });
  }
  window.addEventListener("resize", function () { Object.values(charts).forEach(function (c) { c.resize(); }); });
  window.rectifyCharts = charts; // for the browser test to find a bar to click
})();
