"""Use cases, in packages by bounded context. Each public function that changes state owns one
transaction; routes, jobs and commands call these, never the models' session directly.

Packages, callers above callees (enforced by .importlinter's service-packages contract):

    disclosure | operations                      开门整治: public pages and tips; backups
    oversight | appraisal | calendar | sweep     supervisors' views, 考核, 节假日, the timer sweep
    campaigns | findings                         campaigns and launch; items added from outside
    tasks                                        one instance and its steps; the one save path
    design | escalation | ledger                 BPMN, the 催办→督办函→通报 ladder, 整改台账
    accounts | messaging                         users and units; notifications and mail
    shared                                       audit log, paging, spreadsheets, input errors

Each package's __init__ says what it owns and what it may call."""
