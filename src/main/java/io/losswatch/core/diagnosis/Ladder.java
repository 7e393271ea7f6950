package io.losswatch.core.diagnosis;

import java.util.ArrayList;
import java.util.List;

/**
 * The raises a creeping run climbed: each rung is an lr change upward, shown as proven (a look-ahead showed it ends
 * lower), observed (it held for {@link #HOLD} steps with nothing failing) or still being watched — or failed, when
 * the run diverged, went non-finite or died after it. A run is advised the next ×10 only once its last raise held.
 * Pure; kept by its run's {@link Diagnoser}.
 */
public final class Ladder {
  /** Steps a raise must go without a failure to count as held. */
  public static final int HOLD = 100;

  /** One raise: from {@code from} to {@code to} at {@code step}; {@code state} as it stands. */
  public record Rung(long step, double from, double to, State state) {
  }

  public enum State {
    WATCHED, PROVEN, OBSERVED, FAILED;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final List<Rung> rungs = new ArrayList<>();

  /** The lr went up from {@code from} to {@code to} at {@code step}; {@code proven}: a look-ahead proved it first. */
  void raised(long step, double from, double to, boolean proven) {
    rungs.add(new Rung(step, from, to, proven ? State.PROVEN : State.WATCHED));
  }

  /** A step passed without a failure: a watched rung held for {@link #HOLD} steps becomes observed. */
  void held(long step) {
    int last = rungs.size() - 1;
    if (last >= 0 && rungs.get(last).state() == State.WATCHED && step - rungs.get(last).step() >= HOLD) {
      Rung r = rungs.get(last);
      rungs.set(last, new Rung(r.step(), r.from(), r.to(), State.OBSERVED));
    }
  }

  /** The run failed: the last rung, if still watched (or proven and yet failed), failed. */
  void failed() {
    int last = rungs.size() - 1;
    if (last >= 0 && rungs.get(last).state() != State.FAILED && rungs.get(last).state() != State.OBSERVED) {
      Rung r = rungs.get(last);
      rungs.set(last, new Rung(r.step(), r.from(), r.to(), State.FAILED));
    }
  }

  /** Marks the last rung to {@code lr} as proven (its look-ahead came before it was applied). */
  void proven(double lr) {
    int last = rungs.size() - 1;
    if (last >= 0 && Math.abs(rungs.get(last).to() / lr - 1) < 1e-6 && rungs.get(last).state() == State.WATCHED) {
      Rung r = rungs.get(last);
      rungs.set(last, new Rung(r.step(), r.from(), r.to(), State.PROVEN));
    }
  }

  /** Whether the last raise is still being watched (the next one waits for it). */
  public boolean watching() {
    return !rungs.isEmpty() && rungs.get(rungs.size() - 1).state() == State.WATCHED;
  }

  public List<Rung> rungs() {
    return List.copyOf(rungs);
  }

  /** The rungs in words, or "" when there are none: "1e-5 → 1e-4 (observed, step 240) → 1e-3 (watched, step 380)". */
  String describe() {
    if (rungs.isEmpty()) return "";
    StringBuilder b = new StringBuilder("raises so far: ").append(Diagnoser.fmt(rungs.get(0).from()));
    for (Rung r : rungs) {
      b.append(" → ").append(Diagnoser.fmt(r.to())).append(" (step ").append(r.step()).append(", ")
          .append(r.state().label()).append(')');
    }
    return b.toString();
  }

  void clear() {
    rungs.clear();
  }
}
