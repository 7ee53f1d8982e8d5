// Chinese labels for the modeler and the standard properties panel (diagram-js `translate`).
const ZH = {
  General: "常规", Name: "名称", ID: "编号", Documentation: "说明", "Element documentation": "元素说明",
  "Process documentation": "流程说明", Timer: "定时器", Type: "类型", Value: "值", Date: "日期",
  Duration: "时长", Cycle: "周期", "<none>": "<无>", Executable: "可执行", "Version tag": "版本标签",
  "Multi-instance": "多实例", "Loop cardinality": "循环次数", "Completion condition": "完成条件",
  Message: "消息", Signal: "信号", Escalation: "升级", Error: "错误", Condition: "条件",
  "Condition expression": "条件表达式", "Create": "新建", "Global message reference": "消息引用",
  "Process": "流程", "Participant": "参与者", "Process name": "流程名称", "Process ID": "流程编号",
  "ID must be unique.": "编号不能重复。", "ID must not be empty.": "编号不能为空。",
  "Activate the hand tool": "抓手工具", "Activate the lasso tool": "套索工具",
  "Activate the create/remove space tool": "空间工具", "Activate the global connect tool": "连线工具",
  "Create StartEvent": "新建开始事件", "Create EndEvent": "新建结束事件", "Create Task": "新建任务",
  "Create Gateway": "新建网关", "Create Intermediate/Boundary Event": "新建中间/边界事件",
  "Create Pool/Participant": "新建池", "Create expanded SubProcess": "新建子流程",
  "Create DataObjectReference": "新建数据对象", "Create DataStoreReference": "新建数据存储",
  "Create Group": "新建分组", "Change type": "更改类型", "Delete": "删除", "Connect using Sequence/MessageFlow or Association": "连线",
  "Append Task": "追加任务", "Append EndEvent": "追加结束事件", "Append Gateway": "追加网关",
  "Append Intermediate/Boundary Event": "追加中间事件", "Append TextAnnotation": "追加注释",
  "User Task": "用户任务", "Service Task": "服务任务", Task: "任务", "Script Task": "脚本任务",
  Collaboration: "协作图", Lane: "泳道", "Start Event": "开始事件", "End Event": "结束事件",
  "Exclusive Gateway": "排他网关", "Parallel Gateway": "并行网关", "Inclusive Gateway": "包容网关",
  "Sequence Flow": "顺序流", "Default Flow": "默认流", "Conditional Flow": "条件流",
  "Expanded Sub Process": "子流程", "Collapsed Sub Process": "子流程（折叠）", "Event Sub Process": "事件子流程",
  "Timer Boundary Event (Non Interrupting)": "定时边界事件（不中断）", "Timer Boundary Event": "定时边界事件",
  "Timer Intermediate Catch Event": "定时中间事件", "Message Intermediate Catch Event": "消息中间事件",
  "Message Start Event (Non Interrupting)": "消息开始事件（不中断）", "Message Start Event": "消息开始事件",
  "Intermediate Throw Event": "中间抛出事件", "Text Annotation": "注释",
};

function translate(template, replacements = {}) {
  return (ZH[template] || template).replace(/{([^}]+)}/g, (_, key) => replacements[key] ?? `{${key}}`);
}

export default { translate: ["value", translate] };
