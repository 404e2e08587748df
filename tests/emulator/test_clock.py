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
