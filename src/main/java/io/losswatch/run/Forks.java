package io.losswatch.run;

import io.losswatch.core.Trainer;
import io.losswatch.core.state.State;
import io.losswatch.event.Fork;
import io.losswatch.event.LrChange;
import io.losswatch.event.RunRefusal;
import io.losswatch.event.StepBatch;
import java.util.Iterator;

/**
 * A built-in run's trainer rebuilt from a kept state, exactly: for a branch (from a fork of a live run, or from the
 * last checkpoint of one that ended) and for a resume after a restart (from its last checkpoint, taken silently
 * through the steps its log holds after it). Every method replays steps: call them off the event loop.
 */
final class Forks {
  private final RunFiles files;

  Forks(RunFiles files) {
    this.files = files;
  }

  /** A fork of a run that has no verticle (it ended, or a restart interrupted it): from its last checkpoint on. */
  Fork fromCheckpoint(Run run, long at) {
    State s = files.snapshot(run.id());
    if (s == null) throw conflict(run, "has no checkpoint to branch from");
    long from = s.integer("step");
    long to = at < 0 ? run.history().lastStep() : at;
    if (to < from || to > run.history().lastStep()) {
      throw conflict(run, "can be branched from steps " + from + " to " + run.history().lastStep() + " only, not " + to);
    }
    return new Fork(s, from, to, run.summary().lrChanges().stream().filter(c -> c.step() > from && c.step() <= to).toList());
  }

  /** The trainer of {@code parent}'s fork {@code f}, replayed to the step the branch starts after. */
  Trainer branch(Run parent, Fork f) {
    if (f.to() >= parent.spec().steps()) throw conflict(parent, "has no steps left after step " + f.to() + " to branch");
    Trainer t = new Trainer(parent.spec(), f.state());
    Iterator<LrChange> changes = f.changes().iterator();
    LrChange next = changes.hasNext() ? changes.next() : null;
    while (t.stepsTaken() < f.to()) {
      if (next != null && next.step() == t.stepsTaken() + 1) {
        t.setLr(next.to());
        next = changes.hasNext() ? changes.next() : null;
      }
      t.step();
    }
    return t;
  }

  /**
   * A run a restart interrupted, from its last checkpoint, taken through the steps its log holds after it (each must
   * come out as it was stored, bit for bit): it goes on from the log's last step as if it had never stopped.
   */
  Trainer resume(Run run) {
    State snapshot = files.snapshot(run.id());
    if (snapshot == null) throw conflict(run, "has no checkpoint to resume from");
    Trainer t = new Trainer(run.spec(), snapshot);
    long last = run.history().lastStep();
    if (t.stepsTaken() > last) throw conflict(run, "has a checkpoint at step " + t.stepsTaken() + " past its last step " + last);
    while (t.stepsTaken() < last) {
      StepBatch stored = run.history().read(t.stepsTaken() + 1, Math.min(last, t.stepsTaken() + 65_536), 0);
      if (stored.size() == 0) throw conflict(run, "has no steps after its checkpoint at step " + t.stepsTaken());
      for (int i = 0; i < stored.size(); i++) {
        t.step();
        if (t.stepsTaken() != stored.step()[i]
            || Double.doubleToRawLongBits(t.loss()) != Double.doubleToRawLongBits(stored.loss()[i])) {
          throw conflict(run, "cannot be resumed exactly: from its checkpoint at step " + snapshot.integer("step")
              + ", step " + t.stepsTaken() + " comes out other than it was stored");
        }
      }
    }
    return t;
  }

  static RunRefusal conflict(Run run, String what) {
    return RunRefusal.of(RunRefusal.Kind.CONFLICT, "run " + run.id() + " " + what);
  }
}
