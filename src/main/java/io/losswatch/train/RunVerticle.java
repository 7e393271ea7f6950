package io.losswatch.train;

import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.core.policy.Policy;
import io.losswatch.core.state.Snapshots;
import io.losswatch.event.Alert;
import io.losswatch.event.Checkpoint;
import io.losswatch.event.Events;
import io.losswatch.event.Fork;
import io.losswatch.event.LrChange;
import io.losswatch.event.Rewind;
import io.losswatch.event.Rewound;
import io.losswatch.event.RunCommand;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.history.RunHistory;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One built-in run, trained on this verticle's event loop in slices bounded by time, so the loop never blocks:
 * each slice takes steps for at most {@link #SLICE_NANOS}, appends them to the run's history, publishes them as
 * one {@link StepBatch}, and yields. Paced runs ({@code steps_per_second} &gt; 0) take the steps that are due on
 * a timer instead. What every run's verticle does besides (state, diagnosis, commands, the store's pace) is
 * {@link RunOwner}'s. An ended run lets go of its trainer.
 */
public final class RunVerticle extends RunOwner {
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
  /** A demo run that ended waits this long before starting over, so its end can be seen. */
  static final long DEMO_RESTART_MS = 3000;
  /** A persisted run's state goes to disk at least this often, and at every lr change, pause and end. */
  static final long CHECKPOINT_NANOS = TimeUnit.SECONDS.toNanos(2);
  private static final Logger LOG = Logger.getLogger(RunVerticle.class.getName());

  private final double stepsPerSecond;
  private final StepBatch.Builder batch = new StepBatch.Builder(256);
  private Trainer trainer;
  /** Between steps: proven advice, auto_lr, the guard, and the snapshots they (and branches) use. */
  private Policy policy;
  /** A guard's rewind waits for every step to be on disk, so the log can be cut back. */
  private boolean rewindDue;
  private long checkpointNanos;
  private boolean continued;
  private final List<Rewind> rewinds = new ArrayList<>();
  private long timer = -1;
  private long restartTimer = -1;
  private boolean sliceQueued;
  private boolean busy;
  private long paceNanos;
  private long paceStep;
  private long rateNanos;
  private long rateStep;
  private double measuredRate;

  /**
   * {@code trainer} is the run's first, built by the caller off the event loop; {@code continued}: the run goes on
   * from the trainer's state (restored after a restart, or forked from a parent), not from step 0.
   */
  RunVerticle(Run run, Trainer trainer, boolean continued) {
    super(run);
    this.trainer = trainer;
    this.continued = continued;
    this.stepsPerSecond = run.spec().stepsPerSecond();
  }

  @Override
  Future<?> started() {
    if (continued) begin();   // running before the resume is answered
    else context.runOnContext(x -> begin());
    return Future.succeededFuture();
  }

  private void begin() {
    if (continued) {
      continued = false;
      bestLoss = run.summary().bestLoss();
      lrChanges.addAll(run.summary().lrChanges());
      rewinds.addAll(run.summary().rewinds());
    } else {
      if (trainer == null || trainer.stepsTaken() > 0) trainer = new Trainer(run.spec());   // datasets are cached by now
      reset();
    }
    policy = new Policy(run.spec(), diagnoser, trainer, rewinds.size());
    rewindDue = false;
    checkpoint();   // from its first step on, a persisted run can be resumed
    rateNanos = System.nanoTime();
    rateStep = 0;
    measuredRate = 0;
    changeState(RunState.RUNNING);
    proceed();
  }

  @Override
  void proceed() {
    if (undeployed || state != RunState.RUNNING) return;
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
    timer = vertx.setPeriodic(first, period, id -> {
      long due = (long) ((System.nanoTime() - paceNanos) * stepsPerSecond / 1e9) - (trainer.stepsTaken() - paceStep);
      if (due > 0) slice(due);
    });
  }

  @Override
  void written() {
    if (state == RunState.RUNNING) wake();   // it may have waited for this word
  }

  /** Queues the next slice of an unpaced run, unless one is queued already (there is one chain of slices). */
  private void wake() {
    if (stepsPerSecond > 0 || sliceQueued) return;
    sliceQueued = true;
    if (BUSY.get() > LOOPS) {
      // many unpaced runs (a sweep): a timer, not the task queue, so the loop drains its queue after each round
      // and reads its sockets (Netty runs queued tasks for 100 ms at least before it looks at them)
      vertx.setTimer(1, id -> {
        sliceQueued = false;
        slice(Long.MAX_VALUE);
      });
      return;
    }
    context.runOnContext(v -> {
      sliceQueued = false;
      slice(Long.MAX_VALUE);
    });
  }

  /**
   * Takes up to {@code budget} steps within the time slice, then publishes them and yields. Advice to prove
   * comes first: the run takes no step until its look-ahead is done, so its lr changes fall on the same steps
   * as in {@code trace}.
   */
  private void slice(long budget) {
    if (undeployed || state != RunState.RUNNING || ending != null) return;
    if (run.history().unwritten() >= RunHistory.MAX_UNWRITTEN) return;   // the store's next word wakes it
    long start = System.nanoTime();
    busy(stepsPerSecond <= 0);
    long deadline = start + Math.max(MIN_SLICE_NANOS, Math.min(SLICE_NANOS, ROUND_NANOS * LOOPS / Math.max(1, BUSY.get())));
    if (policy.proving() && !prove(deadline)) {
      wake();
      return;
    }
    if (rewindDue) {
      if (run.history().unwritten() > 0) return;   // the store's word wakes it
      rewind();
    }
    long startMillis = System.currentTimeMillis();
    RunState end = null;
    try {
      long now = start;
      Policy.Next next = Policy.Next.STEP;
      for (long k = 0; k < budget && batch.size() < MAX_BATCH && now < deadline && next == Policy.Next.STEP; k++) {
        trainer.step();
        now = System.nanoTime();
        batch.add(trainer.stepsTaken(), trainer.loss(), trainer.lr(), trainer.gradNorm(),
            startMillis + (now - start) / 1_000_000);
        Verdict before = diagnoser.current().verdict();
        observe(trainer.stepsTaken(), trainer.loss(), trainer.lr(), trainer.gradNorm(), trainer.updateCosine(),
            trainer.efficiency());
        next = policy.afterStep(trainer, before);
      }
      switch (next) {
        case REWIND -> rewindDue = true;   // once every step so far is on disk: the log is cut back
        case DIVERGED -> {
          end = RunState.DIVERGED;
          if (policy.trigger() != null) guardEnded(policy.trigger());
        }
        case FINISHED -> end = RunState.FINISHED;
        default -> { }
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "run " + run.id() + " failed at step " + (trainer.stepsTaken() + 1), e);
      end = RunState.FAILED;
    }
    publishBatch();
    if (end == null && policy.proving()) prove(deadline);
    if (rewindDue && run.history().unwritten() == 0) rewind();
    observed(trainer.stepsTaken());
    if (end != null || System.nanoTime() - checkpointNanos >= CHECKPOINT_NANOS) checkpoint();
    if (end != null) finish(end);
    else if (!rewindDue) wake();   // else the store's word that every step is on disk wakes it
  }

  /**
   * The guard fired at the last step: the run goes back to a kept snapshot at least {@code rewind} steps
   * before, with the lr ×{@code lr_factor}. Its history drops the steps after the snapshot (kept apart as an
   * abandoned stretch, on disk too) and starts a new cycle, so every subscriber reads the run as it now stands.
   */
  private void rewind() {
    rewindDue = false;
    long at = trainer.stepsTaken();
    String why = policy.trigger();
    Snapshots.Snapshot to = policy.rewindTarget(at);
    if (to.step() + 1 < run.history().firstStep()) {   // memory no longer holds the steps it would undo
      guardEnded(why + "; no kept state it can go back to");
      finish(RunState.DIVERGED);
      return;
    }
    double lrBefore = trainer.nextLr();
    trainer = policy.rewind(trainer, to);
    StepBatch abandoned = run.history().rewind(to.step());
    rewinds.add(new Rewind(at, to.step(), lrBefore, trainer.nextLr(), why));
    Events.publish(vertx.eventBus(), new Rewound(run.id(), rewinds.size(), to.step(), abandoned));
    lrChanges.removeIf(c -> c.step() > to.step());   // undone with the steps they were made at
    lrChanged(to.step() + 1, lrBefore, trainer.nextLr(), "rewind");
    alert(Alert.Kind.REWOUND, "rewound at step " + at + " (" + why + ") to step " + to.step() + ", lr "
        + Diagnoser.fmt(lrBefore) + " → " + Diagnoser.fmt(trainer.nextLr()) + " (rewind " + rewinds.size() + " of "
        + policy.maxRewinds() + ")", trainer.nextLr());
    checkpoint();
    publish();
  }

  /** The guard fired once more than it may: the run ends diverged, and says why. */
  private void guardEnded(String why) {
    alert(Alert.Kind.REWOUND, "not rewound again at step " + trainer.stepsTaken() + " (" + why + "): "
        + rewinds.size() + " rewinds, the most its guard allows; the run ends as diverged", Double.NaN);
  }

  /** Sends the run's exact state to the store (after the batch that holds its step), for a resume. */
  private void checkpoint() {
    checkpointNanos = System.nanoTime();
    if (trainer == null || !run.history().persistent()) return;
    Events.publish(vertx.eventBus(), new Checkpoint(run.id(), trainer.stepsTaken(), trainer.state()));
  }

  /** Advances the look-ahead until {@code deadline}; once it is done, auto_lr acts on it. True when done. */
  private boolean prove(long deadline) {
    while (!policy.prove(32)) {
      if (System.nanoTime() >= deadline) return false;
    }
    announceDiagnosis();   // the proven advice, alert and all, before auto_lr follows it
    double lr = policy.takeAutoLr();
    if (!Double.isNaN(lr)) {
      setLr(lr, "auto");
      announceDiagnosis();
    }
    return true;
  }

  /**
   * The state at {@code at}: now, or the nearest snapshot before it with the lr changes made since, which the
   * caller replays off the event loop.
   */
  @Override
  void fork(Message<RunCommand> m, long at) {
    if (trainer == null) {
      refuse(m, "cannot be branched while it is not running or paused");
      return;
    }
    long now = trainer.stepsTaken();
    long k = at < 0 ? now : at;
    if (k > now) {
      refuse(m, "has not taken step " + k + " yet (it is at step " + now + ")");
      return;
    }
    if (k == now) {
      m.reply(new Fork(trainer.state(), now, now, List.of()));
      return;
    }
    Snapshots.Snapshot s = policy.snapshots().atOrBefore(k);
    if (s == null) {
      refuse(m, "keeps its state only for its last few thousand steps: step " + k + " is too far back");
      return;
    }
    List<LrChange> since = lrChanges.stream().filter(c -> c.step() > s.step() && c.step() <= k).toList();
    m.reply(new Fork(s.state(), s.step(), k, since));
  }

  @Override
  Diagnosis diagnosis() {
    return policy == null ? diagnoser.current() : policy.shown();
  }

  @Override
  boolean proving() {
    return policy != null && policy.proving();
  }

  @Override
  boolean autoUnproven() {
    return false;
  }

  private void publishBatch() {
    if (batch.size() == 0) return;
    StepBatch b = batch.build(run.id(), run.cycle());
    run.history().append(b);   // before publishing: whoever sees the batch finds it in the history too
    long now = System.nanoTime();
    long step = trainer.stepsTaken();
    if (now - rateNanos >= 1_000_000_000L || (measuredRate == 0 && now - rateNanos >= 100_000_000L)) {
      measuredRate = (step - rateStep) * 1e9 / (now - rateNanos);
      rateNanos = now;
      rateStep = step;
    }
    run.summary(summary(state));
    Events.publish(vertx.eventBus(), b);
  }

  @Override
  RunSummary summary(RunState s) {
    RunSummary old = run.summary();
    if (trainer == null) return old.withState(s, System.currentTimeMillis());   // ended: nothing moves any more
    return new RunSummary(run.id(), run.spec(), s, run.cycle(), trainer.stepsTaken(), trainer.loss(), trainer.lr(),
        trainer.gradNorm(), bestLoss, s == RunState.RUNNING ? measuredRate : 0, old.created(),
        System.currentTimeMillis(), diagnosis(), List.copyOf(lrChanges), reason(s), old.parent(), old.branchedAt(),
        List.copyOf(rewinds));
  }

  /** Sets the lr from the next step on, records the change, and starts the diagnosis afresh. */
  @Override
  void setLr(double lr, String cause) {
    double from = trainer.nextLr();
    trainer.setLr(lr);
    lrChanged(trainer.stepsTaken() + 1, from, trainer.nextLr(), cause);
    checkpoint();   // a resume must not go on with the old lr
  }

  @Override
  void ended(RunState end) {
    if (run.demo() && !undeployed) {
      restartTimer = vertx.setTimer(DEMO_RESTART_MS, id -> {
        restartTimer = -1;
        run.startOver();
        begin();
      });
    }
  }

  @Override
  void changeState(RunState s) {
    if (s != RunState.RUNNING) busy(false);
    super.changeState(s);
    if (!s.isLive()) trainer = null;   // a demo run builds a new one when it starts over
  }

  @Override
  boolean stoppable() {
    return state.isLive() || restartTimer != -1;
  }

  @Override
  void commanded(RunCommand.Kind kind) {
    if (kind != RunCommand.Kind.RESUME) checkpoint();   // paused or stopped here: a resume goes on from here
    if (kind == RunCommand.Kind.STOP && restartTimer != -1) {
      vertx.cancelTimer(restartTimer);
      restartTimer = -1;
    }
  }

  /** Counts this run among the unpaced ones taking steps, or not. */
  private void busy(boolean b) {
    if (b == busy) return;
    busy = b;
    BUSY.addAndGet(b ? 1 : -1);
  }

  @Override
  public Future<?> stop() {
    busy(false);
    return super.stop();
  }

  @Override
  void halt() {
    busy(false);
    if (timer != -1) vertx.cancelTimer(timer);
    timer = -1;
  }
}
