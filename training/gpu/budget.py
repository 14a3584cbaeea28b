"""The wall-clock budget of one GPU run, shared by both GPU training scripts."""

from __future__ import annotations

import time


class WallClock:
    """``minutes`` for the whole run, of which ``reserve`` seconds are kept for the last validation and
    writing the weight parts."""

    def __init__(self, minutes: float, *, reserve: float = 20.0) -> None:
        self.started = time.monotonic()
        self.budget = minutes * 60
        self.reserve = reserve

    def spent(self) -> float:
        return time.monotonic() - self.started

    def out_of_time(self) -> bool:
        return self.spent() > self.budget - self.reserve

    def affordable_epochs(self, epoch_seconds: float, *, done: int = 1) -> int:
        """How many epochs in all fit at this pace, counting the ``done`` already finished."""
        return max(done, int((self.budget - self.reserve - self.spent()) / max(epoch_seconds, 1e-3)) + done)


#: The schedule is fitted to the budget after this epoch: the first one carries start-up costs
#: (CUDA context, cuDNN autotuning, first batches), measured on an H100 at 11.8 s against 0.7 s
#: for the second, which would have planned a sixth of the epochs that fit.
PACE_EPOCH = 2


def planned_epochs(clock: WallClock, *, epoch: int, epoch_seconds: float, epochs: int) -> int:
    """The number of epochs to plan for after ``epoch``: at :data:`PACE_EPOCH`, no more than fit the budget."""
    if epoch == PACE_EPOCH:
        return min(epochs, clock.affordable_epochs(epoch_seconds, done=epoch))
    return epochs


def epoch_record(*, epoch: int, step: int, loss: float, lr: float, seconds: float, planned: int) -> dict:
    """One line of a run's history, printed as JSON and kept in metrics.json."""
    return {
        "epoch": epoch,
        "step": step,
        "loss": round(loss, 4),
        "lr": lr,
        "seconds": round(seconds, 2),
        "planned_epochs": planned,
    }
