"""The stored workflow state of one unit's instance along a full walk of the rectification
process, with the detours a real unit takes: the sample ledger's five items, the self-check
returned once, one item returned at verification, a failed assessment with a remedial item,
the second assessment passed and the follow-up review (回头看) done.

    python bench/state_size.py [--items 5]

Prints the stored bytes (what the process_instances.state column holds) after each step,
and the raw JSON size, and ends with the JSON lines the other benchmarks print.
"""

import argparse
import zlib
from datetime import timedelta

from common import emit, machine, make_app

SAMPLE_ITEMS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=SAMPLE_ITEMS, help="ledger items listed at the self-check")
    parser.add_argument("--save", default=None, help="write the final stored state to this file")
    args = parser.parse_args()
    app, _url = make_app()
    with app.app_context():
        from app import clock
        from app.demo import seed
        from app.extensions import db
        from app.models import ProcessInstance
        from app.services.campaigns import campaigns, launch, notices
        from app.services.sweep import timers

        seed._load_units(None)
        ids = seed._users()
        notice = notices.notice_from_yaml((seed.DATA / "notice-2014-54.yaml").read_text(encoding="utf-8"))
        notice = seed.campaign_notice(notice)
        campaign = campaigns.create_campaign(notice, ids["admin"])
        campaigns.enrol_units(campaign.id, "all", ids["admin"])
        launch.launch_all(campaign.id, ids["admin"], allow_past_deadlines=True)
        instance = db.session.query(ProcessInstance).filter_by(campaign_id=campaign.id).first()
        d = seed._Driver(app, instance, ids)
        sup, assessor = ids["supervisor"], ids["assessor"]
        sizes: list[tuple[str, int, int]] = []

        def measure(step: str) -> None:
            db.session.expire_all()
            state = db.session.get(ProcessInstance, instance.id).state
            sizes.append((step, len(state), len(zlib.decompress(state)) if state[:1] == b"x" else -1))

        def rectify_and_verify(decision: str = "close") -> None:
            d.do(
                "rectify_item",
                d.staff,
                {"measures_taken": "已整改到位", "completed_on": clock.today().isoformat()},
                {"evidence": seed._file("整改佐证.pdf", "整改佐证材料")},
            )
            fields = {"decision": decision, "check_type": "document_review"}
            if decision == "return":
                fields["comments"] = "佐证材料不足，请补充整改前后对比照片。"
            d.do("verify_item", sup, fields)

        measure("launched")
        d.do("deploy", d.staff, seed._deploy_fields(instance.unit.name), {"plan": seed._file("方案.pdf", "方案")})
        measure("deploy")
        offsets = [10 + 5 * i for i in range(args.items)]
        d.do("self_check", d.staff, seed._self_check_fields(offsets))
        d.do("review_self_check", sup, {"decision": "return", "comments": "问题清单不够具体，请补充。"})
        d.do("self_check", d.staff, seed._self_check_fields(offsets))
        d.do("review_self_check", sup, {"decision": "accept", "comments": "同意"})
        measure(f"self-check ({args.items} items, returned once)")
        rectify_and_verify("return")
        while d.ready("rectify_item"):
            rectify_and_verify()
        measure("every item closed (one returned once)")
        scores = {"scores-0-component": "整改成效", "scores-0-points": "52", "scores-0-max_points": "100"}
        d.do(
            "assessment",
            assessor,
            {
                **scores,
                "verdict": "fail",
                "remarks": "走过场",
                "remedial_items-0-title": "补课：整改措施公示不到位",
                "remedial_items-0-source": "supervision",
                "remedial_items-0-measures": "在县内主流媒体公示整改承诺",
                "remedial_items-0-responsible_leader": "主要负责人",
                "remedial_items-0-responsible_department": "办公室",
                "remedial_items-0-deadline": (clock.today() + timedelta(days=10)).isoformat(),
            },
        )
        while d.ready("rectify_item"):
            rectify_and_verify()
        d.do("assessment", assessor, {**scores, "scores-0-points": "88", "verdict": "pass", "remarks": "整改到位"})
        measure("assessment failed once, then passed")
        timers.tick()
        d.do("follow_up_review", sup, {"rebound": "no", "findings": "回头看未发现反弹"})
        measure("follow-up review done (closed)")
        if args.save:
            with open(args.save, "wb") as out:
                out.write(db.session.get(ProcessInstance, instance.id).state)

    print(f"machine: {machine()}")
    print(f"{'after':<44} {'stored bytes':>12} {'raw JSON':>10}")
    for step, stored, raw in sizes:
        print(f"{step:<44} {stored:>12,} {raw:>10,}")
    emit("state_size", "stored_bytes_after_full_walk", sizes[-1][1], "bytes")
    emit("state_size", "stored_bytes_at_launch", sizes[0][1], "bytes")


if __name__ == "__main__":
    main()
