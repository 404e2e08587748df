from emulator.clock import Interrupt, Simulation, Wait


class Moved(Interrupt):
    preempts_timer = True


def _sleeper(log):
    try:
        while True:
            yield Wait(10)
            log.append(("woke", 0))
    except Interrupt as interrupt:
        log.append(("interrupted", type(interrupt).__name__))


def test_processes_wait_on_the_virtual_clock_and_interrupts_stop_them():
    sim = Simulation()
    log = []
    process = sim.spawn(_sleeper(log), at=5)
    sim.schedule(32, process.interrupt, Interrupt("stop"))
    sim.run()

    assert log == [("woke", 0)] * 2 + [("interrupted", "Interrupt")]
    assert sim.now == 32
    assert process.done


def test_at_a_tie_the_timer_runs_first_unless_the_interrupt_preempts_it():
    for kind, expected in ((Interrupt, 2), (Moved, 1)):
        sim = Simulation()
        log = []
        process = sim.spawn(_sleeper(log), at=0)
        sim.schedule(20, process.interrupt, kind("x"))  # before the timer due at 20
        sim.run()
        assert [entry for entry in log if entry[0] == "woke"] == [("woke", 0)] * expected
        assert log[-1] == ("interrupted", kind.__name__)


def test_run_until_stops_the_clock_there():
    sim = Simulation()
    log = []
    sim.spawn(_sleeper(log), at=0)
    sim.run(until=25)
    assert sim.now == 25
    assert len(log) == 2


def _asker(log, tickets):
    """Waits for one answer (a ticket), then for 10 s, then for plain wakes."""
    try:
        ticket = object()
        tickets.append(ticket)
        log.append(("answered", (yield Wait(ticket=ticket))))
        yield Wait(10)
        log.append(("slept", None))
        log.append(("woken", (yield Wait())))
    except Interrupt as interrupt:
        log.append(("interrupted", str(interrupt)))
        log.append(("after", (yield Wait(10))))


def test_a_ticketed_wait_takes_its_answer_and_keeps_plain_wakes_for_later():
    sim = Simulation()
    log, tickets = [], []
    process = sim.spawn(_asker(log, tickets), at=0)
    sim.run(until=1)
    process.wake("early")  # not an answer: kept until the next ordinary Wait
    process.answer(object(), "someone else's")  # another ticket: dropped
    sim.run(until=2)
    assert log == []
    process.answer(tickets[0], "TwiML")
    sim.run()

    # The early wake ends the next wait (the 10 s) at once, as it would have in line.
    assert log == [("answered", "TwiML"), ("slept", None)]
    assert sim.now == 2


def test_an_answer_that_comes_after_an_interrupt_never_wakes_a_later_wait():
    sim = Simulation()
    log, tickets = [], []
    process = sim.spawn(_asker(log, tickets), at=0)
    sim.run(until=1)
    process.interrupt(Interrupt("hung up"))
    process.answer(tickets[0], "late TwiML")  # both pending at once: the interrupt is first
    sim.run(until=3)
    process.answer(tickets[0], "later still")
    sim.run()

    assert log == [("interrupted", "hung up"), ("after", None)]
    assert sim.now == 11
