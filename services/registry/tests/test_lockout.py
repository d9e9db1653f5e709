"""The lockout schedule: every 5th failure locks, 15 min doubling to a cap, final lock at 100."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cardreg_registry.domain.lockout import UNTIL_RESET, LockoutPolicy

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def lock_for(policy: LockoutPolicy, failures: int) -> timedelta | None:
    until = policy.locked_until(failures, NOW)
    return None if until is None else until - NOW


def test_only_every_fifth_failure_locks():
    policy = LockoutPolicy()
    assert [n for n in range(1, 100) if lock_for(policy, n)] == list(range(5, 100, 5))
    assert lock_for(policy, 0) is None


def test_locks_double_per_run_up_to_the_cap():
    policy = LockoutPolicy()
    minutes = [lock_for(policy, n) / timedelta(minutes=1) for n in range(5, 45, 5)]
    assert minutes == [15, 30, 60, 120, 240, 480, 960, 1440]
    assert lock_for(policy, 95) == timedelta(hours=24)


def test_hundredth_failure_locks_until_a_reset():
    policy = LockoutPolicy()
    assert policy.locked_until(100, NOW) == UNTIL_RESET
    assert policy.needs_reset(100) and not policy.needs_reset(99)
    assert policy.locked_until(150, NOW) == UNTIL_RESET


def test_settings_shape_the_schedule():
    policy = LockoutPolicy(
        threshold=3, base=timedelta(seconds=60), cap=timedelta(seconds=200), hard_limit=10
    )
    assert [lock_for(policy, n) for n in (3, 6, 9)] == [
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(seconds=200),
    ]
    assert policy.locked_until(10, NOW) == UNTIL_RESET


def test_a_huge_run_count_stays_at_the_cap():
    policy = LockoutPolicy(hard_limit=10**9)
    assert lock_for(policy, 5 * 10**6) == timedelta(hours=24)
