package io.losswatch.run;

import io.losswatch.core.state.State;
import io.losswatch.event.Fork;
import io.losswatch.event.RunCommand;
import io.losswatch.event.RunState;
import io.losswatch.event.Written;
import io.losswatch.event.RunRefusal;
import io.losswatch.event.StepBatch;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * Where a run's steps come from: a {@link TrainerSource} (trained here, on the run's event loop) or a
 * {@link ScriptSource} (a training script elsewhere appends them). The {@link RunLifecycle} drives it, and it hands
 * the lifecycle every step it takes; what differs between the two is who carries out a decision. The trainer does
 * it at once, here; a script's run sends it as a command in the next append's answer, and the script does it inside
 * its loop (on the user's model) and acknowledges the step it took effect at. Every method runs on the run's event
 * loop.
 *
 * <p>The look-ahead that proves advice is a built-in run's policy's own (core's {@code Advisor} forks the trainer); a
 * script's run asks its script for it as a {@code probe} command, as it asks for rewinds and lr changes.
 */
interface StepSource {
  /** The lifecycle, as its source sees it: what a source asks of the run, and what it tells it. */
  interface Lifecycle {
    Vertx vertx();

    /** The run's own context: a source's timers and queued tasks run on it, as the lifecycle does. */
    Context context();

    RunState state();

    /** Whether a step may be taken now: running, not yet ending, and at most a window ahead of the store. */
    boolean mayStep();

    /** Whether the store reported a failed write it has not caught up with yet. */
    boolean storageFault();

    /** A request this run's state does not allow: {@code what} it refuses. */
    RunRefusal refusal(String what);

    /** The source takes steps (again): the run is running. */
    void running();

    /** The run stands at {@code step} (a trainer that begins, or went back). */
    void position(long step, double loss, double lr, double gradNorm);

    /**
     * What the source's curvature columns measure: λ(P⁻¹H) when {@code preconditioned}, and the optimizer's stability
     * threshold (NaN: read from each measurement, as lr × sharpness ÷ stability).
     */
    void curvature(boolean preconditioned, double threshold);

    /** Steps taken, the policy having seen each: stored and told. */
    void took(StepBatch b);

    /** A script said it is alive (an append without new steps). */
    void touched();

    /** After a batch: the diagnosis told if it changed, its alerts raised; a checkpoint when one is due. */
    void observed();

    /** The diagnosis as it stands now, told (a built-in run's, once its advice is proven). */
    void announce();

    /** The lr changed from step {@code at} on, as the source says it took effect. */
    void lrChanged(long at, double from, double to, String cause);

    /** The guard fired at step {@code at}: the lifecycle asks for the rewind once every step is on disk. */
    void rewindDue(long at, String why);

    /** The source went back from step {@code at} to its state after step {@code to}; the run's cycle is {@code cycle} now. */
    void rewound(long at, long to, double lrBefore, double lrAfter, String why, int cycle);

    /** The guard fired at step {@code at} and a script could not go back ({@code why}): the run goes on as it is. */
    void notRewound(long at, String why);

    /** The guard fired once more than it may, at step {@code at}: the run is about to end diverged. */
    void guardEnded(long at, String why);

    /** The source's state is worth keeping now (it may have none: a script keeps its own). */
    void checkpoint();

    /** The run reached its end ({@code why}: a failed script's message, or null). */
    void finish(RunState end, String why);

    /** A stopped run's script heard it: the run may let go of its verticle. */
    void retire();
  }

  /** The lifecycle's consumers are in place: take steps (or be ready to). Called again for a demo run's new cycle. */
  Future<?> start();

  /** Take steps again: the run resumed, or the store caught up. */
  void go();

  /** Take no more steps until {@link #go()}: the run paused, stopped, ended, or its store cannot write. */
  void halt();

  /** The store's word on how far the run's steps are on disk, after the lifecycle took it in. */
  void written(Written w);

  /**
   * Use {@code lr} from the next step on ({@code cause}: set, advice, auto). The source tells the lifecycle the
   * change once it took effect ({@link Lifecycle#lrChanged}): at once here, at the script's acknowledgement there.
   */
  void setLr(double lr, String cause);

  /**
   * Go back to the state after step {@code to} (or the nearest kept before it) and go on with the lr ×{@code lrFactor};
   * the source tells the lifecycle where it went back to ({@link Lifecycle#rewound}). The lifecycle asks once
   * every step is on disk (the log is cut back). The trainer does it here; a script's run sends a {@code rewind}
   * command, which its script acknowledges with the step it went back to.
   */
  void rewind(long to, double lrFactor, String why);

  /** A person paused, resumed or stopped the run: a script has to hear of it. */
  void commanded(RunCommand.Kind kind);

  /** The exact state to keep for a resume, null when the source keeps its own (a script's). */
  State state();

  /** The state after {@code step} (-1: now) for a branch; throws a refusal when there is none to give. */
  Fork fork(long step);

  /** Whether the run keeps its verticle although it ended (a script that has not yet heard it was stopped). */
  boolean holding();

  /** The run took its end state {@code end}. */
  void ended(RunState end);

  /** The run's verticle goes (deleted, retired, or the server stopping): answer whatever waits. */
  void stop();
}
