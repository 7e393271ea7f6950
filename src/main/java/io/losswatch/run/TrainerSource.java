package io.losswatch.run;

import io.losswatch.core.Trainer;
import io.losswatch.core.state.Snapshots;
import io.losswatch.core.state.State;
import io.losswatch.event.Fork;
import io.losswatch.event.LrChange;
import io.losswatch.event.RunCommand;
import io.losswatch.event.RunState;
import io.losswatch.event.StepBatch;
import io.losswatch.event.Written;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A built-in run's steps, trained on the run's event loop in slices bounded by time, so the loop never blocks: each
 * slice takes steps for at most {@link #SLICE_NANOS}, hands them to the lifecycle as one {@link StepBatch}, and
 * yields. Paced runs ({@code steps_per_second} &gt; 0) take the steps that are due on a timer instead. Between steps,
 * core's policy decides ({@link RunPolicy#afterStep}) and this source carries its decisions out at once: the
 * look-ahead that proves advice runs before the next step (so lr changes fall on the same steps as in
 * {@code trace}); a guard's rewind is the lifecycle's to time (once every step is on disk), this source's to do. An
 * ended run lets go of its trainer.
 */
final class TrainerSource implements StepSource {
  static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(4);
  /**
   * How long one round of every unpaced run on an event loop may take: with many of them (a sweep) each slice
   * shrinks, down to {@link #MIN_SLICE_NANOS}, so a request queued on that loop waits a round, not 25 slices.
   */
  static final long ROUND_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  static final long MIN_SLICE_NANOS = TimeUnit.MICROSECONDS.toNanos(250);
  /** Vert.x's default: two event loops per core. */
  private static final int LOOPS = 2 * Runtime.getRuntime().availableProcessors();
  /** Unpaced runs taking steps now, on every loop. */
  private static final AtomicInteger BUSY = new AtomicInteger();
  static final int MAX_BATCH = 4096;
  static final long MIN_PACE_PERIOD_MS = 20;
  /** How long before the wall clock's frame boundaries a paced run takes its steps. */
  static final long PACE_LEAD_MS = 4;
  /** Look-ahead steps between looks at the clock. */
  private static final int PROOF_CHUNK = 32;
  private static final Logger LOG = Logger.getLogger(TrainerSource.class.getName());

  private final Lifecycle life;
  private final Run run;
  private final RunPolicy policy;
  private final double stepsPerSecond;
  private final StepBatch.Builder batch = new StepBatch.Builder(256);
  private Trainer trainer;
  private boolean continued;
  private long timer = -1;
  private boolean sliceQueued;
  private boolean busy;
  private long paceNanos;
  private long paceStep;

  /** {@code first}: the run's first trainer; {@code continued}: it goes on from that trainer's state. */
  TrainerSource(Lifecycle life, Run run, RunPolicy policy, Trainer first, boolean continued) {
    this.life = life;
    this.run = run;
    this.policy = policy;
    this.trainer = first;
    this.continued = continued;
    this.stepsPerSecond = run.spec().stepsPerSecond();
  }

  private Vertx vertx() {
    return life.vertx();
  }

  @Override
  public Future<?> start() {
    if (continued) begin();   // running before the resume (or the branch) is answered
    else life.context().runOnContext(x -> begin());
    return Future.succeededFuture();
  }

  /** A cycle begins: from step 0 with a fresh trainer, or from the state it was given. */
  private void begin() {
    if (continued) {
      continued = false;
    } else if (trainer == null || trainer.stepsTaken() > 0) {
      trainer = new Trainer(run.spec());   // datasets are cached by now
    }
    policy.begin(trainer, run.summary().rewinds().size());
    life.curvature(trainer.preconditioned(), Double.NaN);   // a schedule may move the threshold: read per measurement
    life.position(trainer.stepsTaken(), trainer.loss(), trainer.lr(), trainer.gradNorm());
    life.checkpoint();   // from its first step on, a persisted run can be resumed
    life.running();
    go();
  }

  @Override
  public void go() {
    if (life.state() != RunState.RUNNING || trainer == null) return;
    if (stepsPerSecond <= 0) {
      wake();
      return;
    }
    halt();
    paceStep = trainer.stepsTaken();
    // at most 50 wake-ups a second (a fast pace takes several steps per batch: every consumer handles each
    // batch, so batches of one step cost every subscriber dearly), at least one (a slow run wakes seldom)
    long period = Math.max(MIN_PACE_PERIOD_MS, Math.min(1000, Math.round(1000 / stepsPerSecond)));
    // on the wall clock's grid, just before each multiple of the period: WebSocket frames go out on that grid
    // (StreamGateway), so a step taken here is seen within milliseconds, not up to a period later
    long first = Math.floorMod(period - PACE_LEAD_MS - System.currentTimeMillis(), period) + 1;
    // the pace counts from half a period before the first wake-up, so each wake-up finds its steps due
    // however its timer jitters
    paceNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(first) - TimeUnit.MILLISECONDS.toNanos(period) / 2;
    timer = vertx().setPeriodic(first, period, id -> {
      if (!sliceQueued && due() > 0) slice(due());
    });
  }

  /** The steps a paced run owes its pace now. */
  private long due() {
    return (long) ((System.nanoTime() - paceNanos) * stepsPerSecond / 1e9) - (trainer.stepsTaken() - paceStep);
  }

  @Override
  public void halt() {
    busy(false);
    if (timer != -1) vertx().cancelTimer(timer);
    timer = -1;
  }

  @Override
  public void written(Written w) {
    if (life.state() == RunState.RUNNING) wake();   // it may have waited for this word
  }

  /**
   * Queues the next slice, unless one is queued already (there is one chain of slices): an unpaced run's, or a paced
   * one's that still owes steps after a slice (one slice takes at most {@link #MAX_BATCH} steps or
   * {@link #SLICE_NANOS}: a pace above ~200k steps/s takes several per tick, yielding between them).
   */
  private void wake() {
    if (sliceQueued) return;
    if (stepsPerSecond > 0) {
      if (timer == -1 || due() <= 0) return;
      sliceQueued = true;
      life.context().runOnContext(v -> {
        sliceQueued = false;
        if (timer != -1) slice(due());
      });
      return;
    }
    sliceQueued = true;
    if (BUSY.get() > LOOPS) {
      // many unpaced runs (a sweep): a timer, not the task queue, so the loop drains its queue after each round
      // and reads its sockets (Netty runs queued tasks for 100 ms at least before it looks at them)
      vertx().setTimer(1, id -> {
        sliceQueued = false;
        slice(Long.MAX_VALUE);
      });
      return;
    }
    life.context().runOnContext(v -> {
      sliceQueued = false;
      slice(Long.MAX_VALUE);
    });
  }

  /**
   * Takes up to {@code budget} steps within the time slice, hands them to the lifecycle and yields. Advice to
   * prove comes first: the run takes no step until its look-ahead is done, so its lr changes fall on the same steps
   * as in {@code trace}.
   */
  private void slice(long budget) {
    if (trainer == null || !life.mayStep()) return;   // paused, ending, gone, or a window ahead: the store's word wakes it
    long start = System.nanoTime();
    busy(stepsPerSecond <= 0);
    long deadline = start + Math.max(MIN_SLICE_NANOS, Math.min(SLICE_NANOS, ROUND_NANOS * LOOPS / Math.max(1, BUSY.get())));
    if (policy.proving() && !prove(deadline)) {
      wake();
      return;
    }
    long startMillis = System.currentTimeMillis();
    RunState end = null;
    boolean rewind = false;
    try {
      long now = start;
      RunPolicy.Next next = RunPolicy.Next.STEP;
      for (long k = 0; k < budget && batch.size() < MAX_BATCH && now < deadline && next == RunPolicy.Next.STEP; k++) {
        trainer.step();
        now = System.nanoTime();
        batch.add(trainer.stepsTaken(), trainer.loss(), trainer.lr(), trainer.gradNorm(),
            startMillis + (now - start) / 1_000_000);
        batch.curvature(trainer.sharpness(), trainer.stability());
        next = policy.afterStep(trainer);
      }
      switch (next) {
        case REWIND -> rewind = true;
        case DIVERGED -> {
          end = RunState.DIVERGED;
          if (policy.trigger() != null) life.guardEnded(trainer.stepsTaken(), policy.trigger());
        }
        case FINISHED -> end = RunState.FINISHED;
        default -> { }
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "run " + run.id() + " failed at step " + (trainer.stepsTaken() + 1), e);
      end = RunState.FAILED;
    }
    if (batch.size() > 0) life.took(batch.build(run.id(), run.cycle()));
    if (end == null && policy.proving()) prove(deadline);
    life.observed();
    if (end != null) life.finish(end, null);
    else if (rewind) life.rewindDue(trainer.stepsTaken(), policy.trigger());   // it goes on once it went back
    else wake();
  }

  /** Advances the look-ahead until {@code deadline}; once it is done, auto_lr acts on it. True when done. */
  private boolean prove(long deadline) {
    while (!policy.prove(PROOF_CHUNK)) {
      if (System.nanoTime() >= deadline) return false;
    }
    life.announce();   // the proven advice, alert and all, before auto_lr follows it
    double lr = policy.takeAutoLr();
    if (!Double.isNaN(lr)) {
      setLr(lr, "auto");
      life.announce();
    }
    return true;
  }

  /**
   * Goes back to the kept state at or before step {@code to} with the guard's lr factor (core's policy applies it,
   * as {@code trace} does). A state whose later steps memory no longer holds ends the run diverged.
   */
  @Override
  public void rewind(long to, double lrFactor, String why) {
    long at = trainer.stepsTaken();
    Snapshots.Snapshot target = policy.snapshots().atOrBefore(to);
    if (target == null || target.step() + 1 < run.history().firstStep()) {   // memory no longer holds the steps it would undo
      life.guardEnded(at, why + "; no kept state it can go back to");
      life.finish(RunState.DIVERGED, null);
      return;
    }
    double lrBefore = trainer.nextLr();
    trainer = policy.rewind(trainer, target);
    life.position(trainer.stepsTaken(), trainer.loss(), trainer.lr(), trainer.gradNorm());
    life.rewound(at, target.step(), lrBefore, trainer.nextLr(), why, run.cycle() + 1);
  }

  /** Sets the lr from the next step on; the change counts from that step. */
  @Override
  public void setLr(double lr, String cause) {
    double from = trainer.nextLr();
    trainer.setLr(lr);
    life.lrChanged(trainer.stepsTaken() + 1, from, trainer.nextLr(), cause);
  }

  @Override
  public void commanded(RunCommand.Kind kind) {
    // the trainer pauses, resumes and stops as the lifecycle halts it and lets it go
  }

  @Override
  public State state() {
    return trainer == null ? null : trainer.state();
  }

  /**
   * The state at {@code at}: now, or the nearest snapshot before it with the lr changes made since, which the
   * caller replays off the event loop.
   */
  @Override
  public Fork fork(long at) {
    if (trainer == null) throw life.refusal("cannot be branched while it is not running or paused");
    long now = trainer.stepsTaken();
    long k = at < 0 ? now : at;
    if (k > now) throw life.refusal("has not taken step " + k + " yet (it is at step " + now + ")");
    if (k == now) return new Fork(trainer.state(), now, now, List.of());
    Snapshots.Snapshot s = policy.snapshots().atOrBefore(k);
    if (s == null) throw life.refusal("keeps its state only for its last few thousand steps: step " + k + " is too far back");
    List<LrChange> since = run.summary().lrChanges().stream().filter(c -> c.step() > s.step() && c.step() <= k).toList();
    return new Fork(s.state(), s.step(), k, since);
  }

  @Override
  public boolean holding() {
    return false;
  }

  @Override
  public void ended(RunState end) {
    trainer = null;   // a demo run builds a new one when it starts over
  }

  @Override
  public void stop() {
    busy(false);
  }

  /** Counts this run among the unpaced ones taking steps, or not. */
  private void busy(boolean b) {
    if (b == busy) return;
    busy = b;
    BUSY.addAndGet(b ? 1 : -1);
  }
}
