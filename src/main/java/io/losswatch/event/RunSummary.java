package io.losswatch.event;

import io.losswatch.core.RunSpec;
import io.losswatch.core.diagnosis.Diagnosis;
import java.util.List;

/**
 * What a run is and where it stands, as one immutable snapshot: served by REST, sent to WebSocket clients on
 * every state change, and replaced (never mutated) by the run as it goes.
 *
 * @param cycle how many times the run started over (demo runs do, when they end); 0 at first
 * @param step the last step taken (0 before the first)
 * @param loss the last step's loss, lr and gradNorm likewise; NaN before the first step
 * @param stepsPerSecond measured over the last second or so
 * @param created epoch milliseconds, as {@code updated}
 * @param diagnosis the verdict on the run's learning rate and the advice that goes with it
 * @param lrChanges the learning-rate changes made during the run (the last hundred), oldest first
 * @param reason why the run is paused when nobody asked it to ({@code "storage"}: its steps cannot be written;
 *     it resumes by itself when they can), null otherwise
 * @param parent the run this one was branched from, null for a run of its own
 * @param branchedAt the parent's step this run's state was taken after (its history starts after it); 0 without a parent
 * @param rewinds the guard's rollbacks, oldest first
 * @param curvature the last curvature measurement, null before the first (or when the run measures none)
 * @param script a script's run's probes and auto_lr ({@link ScriptReport}); null for a built-in run
 */
public record RunSummary(String id, RunSpec spec, RunState state, int cycle, long step, double loss, double lr, double gradNorm,
    double bestLoss, double stepsPerSecond, long created, long updated, Diagnosis diagnosis,
    List<LrChange> lrChanges, String reason, String parent, long branchedAt, List<Rewind> rewinds, Curvature curvature,
    ScriptReport script) implements RunEvent {
  /**
   * A curvature measurement: at {@code step}, the sharpness (the loss' Hessian's top eigenvalue, of P⁻¹H when
   * {@code preconditioned}), the optimizer's stability threshold and lr × sharpness ÷ threshold (NaN when the
   * threshold is unknown).
   */
  public record Curvature(long step, double sharpness, double threshold, double stability, boolean preconditioned) {
  }

  /** Without a curvature measurement or a script's report (a built-in run's before it measures). */
  public RunSummary(String id, RunSpec spec, RunState state, int cycle, long step, double loss, double lr, double gradNorm,
      double bestLoss, double stepsPerSecond, long created, long updated, Diagnosis diagnosis,
      List<LrChange> lrChanges, String reason, String parent, long branchedAt, List<Rewind> rewinds) {
    this(id, spec, state, cycle, step, loss, lr, gradNorm, bestLoss, stepsPerSecond, created, updated, diagnosis, lrChanges,
        reason, parent, branchedAt, rewinds, null, null);
  }

  /** A run of its own, never rewound. */
  public RunSummary(String id, RunSpec spec, RunState state, int cycle, long step, double loss, double lr, double gradNorm,
      double bestLoss, double stepsPerSecond, long created, long updated, Diagnosis diagnosis, List<LrChange> lrChanges,
      String reason) {
    this(id, spec, state, cycle, step, loss, lr, gradNorm, bestLoss, stepsPerSecond, created, updated, diagnosis, lrChanges,
        reason, null, 0, List.of());
  }

  /** A run paused because its steps cannot be written; it resumes by itself once they can. */
  public static final String STORAGE = "storage";

  public static RunSummary created(String id, RunSpec spec, long now) {
    return new RunSummary(id, spec, RunState.CREATED, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, now, now,
        Diagnosis.UNKNOWN, List.of(), null);
  }

  @Override
  public void tell(Listener to) {
    to.summary(this);
  }

  public String name() {
    return spec.name();
  }

  /** The same summary with another diagnosis (rebuilt from a restored run's history). */
  public RunSummary withDiagnosis(Diagnosis d) {
    return new RunSummary(id, spec, state, cycle, step, loss, lr, gradNorm, bestLoss, stepsPerSecond, created, updated, d,
        lrChanges, reason, parent, branchedAt, rewinds, curvature, script);
  }

  /** The same summary of a run whose spec changed (its tags or notes), at {@code now}. */
  public RunSummary withSpec(RunSpec newSpec, long now) {
    return new RunSummary(id, newSpec, state, cycle, step, loss, lr, gradNorm, bestLoss, stepsPerSecond, created, now,
        diagnosis, lrChanges, reason, parent, branchedAt, rewinds, curvature, script);
  }

  public RunSummary withState(RunState s, long now) {
    return new RunSummary(id, spec, s, cycle, step, loss, lr, gradNorm, bestLoss, 0, created, now, diagnosis,
        lrChanges, null, parent, branchedAt, rewinds, curvature, script);
  }

  /** A new run branched from {@code parent} after its step {@code at}, with the lr change that makes it one. */
  public static RunSummary branched(String id, RunSpec spec, long now, String parent, long at, LrChange change) {
    return new RunSummary(id, spec, RunState.CREATED, 0, at, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, now, now,
        Diagnosis.UNKNOWN, change == null ? List.of() : List.of(change), null, parent, at, List.of());
  }
}
