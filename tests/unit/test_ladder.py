"""The catch-up rule (ladder.decide) on its own: which rung may go out, and when."""

from datetime import datetime
from zoneinfo import ZoneInfo

from app.services.escalation import ladder
from app.services.escalation.ladder import Rung

TZ = ZoneInfo("Asia/Shanghai")
LADDER = ladder.merged(None)  # reminder 0, letter 3, notice 10 working days
MON = datetime(2026, 11, 16, 10, 0, tzinfo=TZ)  # a Monday with no holiday near


def at(day, hour=10, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def test_the_first_rung_goes_out_at_once():
    assert ladder.decide("reminder", [], LADDER, MON).fire
    # A diagram without a reminder: its letter is the first rung.
    assert ladder.decide("letter", [], LADDER, MON).fire


def test_the_next_rung_waits_its_interval_from_the_previous_one():
    reminded = [Rung("reminder", "done", MON, None)]
    decision = ladder.decide("letter", reminded, LADDER, at(18))
    assert not decision.fire and decision.wait_until == at(19, 17, 30)  # Thursday, end of the working day
    assert ladder.decide("letter", reminded, LADDER, at(19, 17, 31)).fire


def test_a_rung_waits_for_an_earlier_one_not_yet_carried_out():
    waiting = [Rung("reminder", "pending", None, at(17, 9))]
    decision = ladder.decide("letter", waiting, LADDER, MON)
    assert not decision.fire and decision.wait_until == at(20, 17, 30)  # 3 working days after its time
    failed = [Rung("reminder", "incident", None, None)]
    decision = ladder.decide("letter", failed, LADDER, MON)
    assert not decision.fire and decision.wait_until > MON + ladder.RECHECK


def test_a_withdrawn_earlier_rung_cancels_the_next_and_a_cancelled_one_is_passed_over():
    assert ladder.decide("letter", [Rung("reminder", "withdrawn", MON, None)], LADDER, at(30)).cancel == "withdrawn"
    assert ladder.decide("letter", [Rung("reminder", "cancelled", None, None)], LADDER, at(30)).fire


def test_a_recomputed_deadline_restarts_the_interval():
    reminded = [Rung("reminder", "done", MON, None)]
    decision = ladder.decide("letter", reminded, LADDER, at(23), restarted_at=at(23, 9))
    assert not decision.fire and decision.wait_until == at(26, 17, 30)


def test_a_public_rung_waits_for_the_letters_reply_deadline():
    lettered = [Rung("reminder", "done", at(2), None), Rung("letter", "done", at(5), None)]
    assert ladder.decide("notice", lettered, LADDER, at(30)).fire
    decision = ladder.decide("notice", lettered, LADDER, at(30), reply_due=datetime(2026, 12, 4, 17, 30, tzinfo=TZ))
    assert not decision.fire and decision.wait_until == datetime(2026, 12, 4, 17, 30, tzinfo=TZ)


def test_calendar_days_and_unknown_levels():
    calendar = ladder.merged({"letter": {"days": 2, "unit": "calendar"}})
    decision = ladder.decide("letter", [Rung("reminder", "done", MON, None)], calendar, MON)
    assert decision.wait_until == at(18)  # two calendar days, to the minute
    # A level the ladder does not know ranks after all of them, with no interval of its own.
    assert ladder.rank("interview") == len(ladder.DEFAULT_LADDER)
    top = [Rung("notice", "done", MON, None)]
    assert ladder.decide("interview", top, LADDER, MON).fire
