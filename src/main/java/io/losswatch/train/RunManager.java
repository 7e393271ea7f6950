package io.losswatch.train;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.state.State;
import io.losswatch.event.Append;
import io.losswatch.event.Appended;
import io.losswatch.event.Finish;
import io.losswatch.event.Fork;
import io.losswatch.event.LrChange;
import io.losswatch.event.Events;
import io.losswatch.event.RunCommand;
import io.losswatch.event.RunEvent;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.history.RunHistory;
import io.losswatch.history.StepLog;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.io.IOException;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Starts, commands and deletes runs: one {@link RunVerticle} per run, spread over the event loops by Vert.x.
 * The one place that turns a spec into a live run, for the REST API and the demo gallery alike.
 */
public final class RunManager {
  private final Vertx vertx;
  private final RunRegistry runs;
  private final RunFiles store;
  private final int maxRuns;
  private final AtomicInteger starting = new AtomicInteger();   // places reserved by runs not yet registered
  private final Set<String> resuming = ConcurrentHashMap.newKeySet();
  private final Sweeps sweeps;
  private final Takeover takeover;

  public RunManager(Vertx vertx, RunRegistry runs, RunFiles store, int maxRuns) {
    this.vertx = vertx;
    this.runs = runs;
    this.store = store;
    this.maxRuns = maxRuns;
    this.sweeps = new Sweeps(vertx, this);
    this.takeover = new Takeover(vertx, runs, store);
  }

  public Sweeps sweeps() {
    return sweeps;
  }

  private record Prepared(Trainer trainer, StepLog log) {
  }

  private record Branched(Trainer trainer, RunSummary created, StepLog log) {
  }

  public RunRegistry runs() {
    return runs;
  }

  /** Whether another run fits under the cap. */
  public boolean full() {
    // starting first: a run moves from starting into runs by add, then release, so it is never counted zero times
    return starting.get() + runs.size() >= maxRuns;
  }

  /**
   * Takes a place under the cap for a run about to start, before its asynchronous start: two requests on two
   * event loops cannot both take the last one. Given back once the run is registered, or its start failed.
   */
  private synchronized boolean reserve() {
    if (full()) return false;
    starting.incrementAndGet();
    return true;
  }

  public int maxRuns() {
    return maxRuns;
  }

  /**
   * Starts a run; demo runs are kept in memory only, every other run is persisted. Other than demo runs, a run
   * over the cap fails with a {@link ReplyException} of code 429, and one whose files cannot be created (a full
   * disk) with 507.
   */
  public Future<Run> launch(RunSpec spec, boolean demo) {
    if (!demo && !reserve()) {
      return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 429, "too many runs: at most " + maxRuns));
    }
    RunSummary created = RunSummary.created(runs.newId(), spec, System.currentTimeMillis());
    String id = created.id();
    // a problem's first trainer may read its dataset, and a log means files: off the event loop
    return vertx.executeBlocking(() -> new Prepared(spec.external() ? null : new Trainer(spec),
            demo ? null : create(created)), false)
        .onFailure(e -> release(demo))
        .compose(p -> {
          Run run;
          try {
            run = runs.add(created, demo, new RunHistory(id, p.log));
          } finally {
            release(demo);   // registered (or not): runs.size() counts it from here on
          }
          Events.publish(vertx.eventBus(), run.summary());
          return vertx.deployVerticle(owner(run, p.trainer)).map(deployment -> {
            run.deploymentId(deployment);
            if (runs.get(id).isEmpty()) vertx.undeploy(deployment);   // deleted while it was starting
            return run;
          });
        });
  }

  static RunOwner owner(Run run, Trainer trainer) {
    return run.spec().external() ? new ExternalRunVerticle(run) : new RunVerticle(run, trainer, false);
  }

  /** After a restart: see {@link Takeover#interrupted()}. */
  public Future<Void> adoptInterrupted() {
    return takeover.interrupted();
  }

  /** Takes over a run whose node left the cluster: see {@link Takeover#adopt(Run)}. */
  public Future<Run> adopt(Run mirror) {
    return takeover.adopt(mirror);
  }

  /**
   * Hands a script's {@link Append} or {@link Finish} to its external run. Fails with a {@link ReplyException}
   * whose code is an HTTP status: 409 when the run takes no more steps (it ended), 503 when it cannot take them now.
   */
  public Future<Appended> append(Run run, Append a) {
    return toScript(run, Events.append(run.id()), a);
  }

  /** Hands a script's {@link Finish} to its external run; fails as {@link #append} does. */
  public Future<RunSummary> finish(Run run, Finish f) {
    return toScript(run, Events.finish(run.id()), f);
  }

  private <T> Future<T> toScript(Run run, String address, Object message) {
    if (run.summary().state() == RunState.LOST) return adopt(run).compose(r -> toScript(r, address, message));
    if (!run.spec().external()) {
      return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409, "run " + run.id()
          + " is trained by this server: it takes no steps from outside (create one with \"source\": \"external\")"));
    }
    // no verticle, or one that just ended (a message caught as its consumer goes is discarded: TIMEOUT at once)
    return vertx.eventBus().<T>request(address, message).map(m -> m.body())
        .recover(e -> e instanceof ReplyException r && (r.failureType() == ReplyFailure.NO_HANDLERS
                || r.failureType() == ReplyFailure.TIMEOUT && over(run))
            ? Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409,
                "run " + run.id() + " is " + run.summary().state().label() + ": it takes no more steps"))
            : e instanceof ReplyException r && r.failureType() == ReplyFailure.TIMEOUT
            ? Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 503,
                "busy: run " + run.id() + " did not take the steps in time; send them again"))
            : Future.failedFuture(e));
  }

  /** A run that takes no more steps: it ended (not one interrupted or lost, which a script may take on again). */
  private static boolean over(Run run) {
    RunState s = run.summary().state();
    return !s.isLive() && s != RunState.INTERRUPTED && s != RunState.LOST;
  }

  private StepLog create(RunSummary created) {
    try {
      return store.create(created);
    } catch (IOException e) {
      throw new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 507, "storage: cannot create the files of a new run: "
          + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    }
  }

  private void release(boolean demo) {
    if (!demo) starting.decrementAndGet();
  }

  /**
   * Sends a command to a run's verticle. Fails with a {@link ReplyException} whose failure code is an HTTP
   * status: 409 when the run is in the wrong state for it (or already gone).
   */
  public Future<RunSummary> command(Run run, RunCommand command) {
    return vertx.eventBus().<RunSummary>request(Events.commands(run.id()), command)
        .map(m -> m.body())
        .recover(e -> e instanceof ReplyException r && (r.failureType() == ReplyFailure.NO_HANDLERS
                || r.failureType() == ReplyFailure.TIMEOUT && !run.summary().state().isLive())
            ? Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409,
                "run " + run.id() + " is " + run.summary().state().label()))
            : Future.failedFuture(e));
  }

  /**
   * Resumes a run: a paused one by command; a built-in one a restart interrupted from its last checkpoint, its
   * trainer restored and taken silently through the steps its log holds after it (each must come out as it was
   * stored, bit for bit), then going on from the log's last step as if it had never stopped.
   */
  public Future<RunSummary> resume(Run run) {
    if (run.summary().state() == RunState.LOST) return adopt(run).compose(this::resume);
    if (!run.local()) return toOwner(run, "resume");   // its node resumes it
    if (run.spec().external() || run.summary().state() != RunState.INTERRUPTED) {
      return command(run, RunCommand.of(RunCommand.Kind.RESUME));
    }
    if (!resuming.add(run.id())) return Future.failedFuture(conflict(run, "is being resumed already"));
    return vertx.executeBlocking(() -> restore(run), false)
        .compose(trainer -> vertx.deployVerticle(new RunVerticle(run, trainer, true)))
        .map(deployment -> {
          run.deploymentId(deployment);
          return run.summary();
        })
        .onComplete(x -> resuming.remove(run.id()));
  }

  private Trainer restore(Run run) {
    State snapshot = store.snapshot(run.id());
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

  static ReplyException conflict(Run run, String what) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409, "run " + run.id() + " " + what);
  }

  /**
   * Starts a branch of {@code parent}: a new run from its exact state after step {@code at} (-1: its current
   * step), with the lr ×{@code factor} or set to {@code lr} (under a schedule, the schedule's output scaled, as
   * {@code /lr} does). A live run gives its state (the nearest snapshot, replayed here off the event loop); one
   * that ended or was interrupted gives its last checkpoint.
   */
  public Future<Run> branch(Run parent, long at, double factor, double lr, String name) {
    if (parent.spec().external()) return Future.failedFuture(conflict(parent, "is trained elsewhere: it can't be branched here"));
    if (!reserve()) {
      return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 429, "too many runs: at most " + maxRuns));
    }
    Future<Fork> fork = vertx.eventBus().<Fork>request(Events.commands(parent.id()), RunCommand.branch(at))
        .map(m -> m.body())
        .recover(e -> e instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS
            ? vertx.executeBlocking(() -> checkpointFork(parent, at), false) : Future.failedFuture(e));
    return fork.compose(f -> vertx.executeBlocking(() -> {
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
      double from = t.nextLr();
      double to = !Double.isNaN(lr) ? lr : factor == 1 ? from : Diagnoser.nice(from * factor);
      if (to != from) t.setLr(to);
      String n = name != null ? name : parent.spec().name() + " " + (Double.isNaN(lr) ? "×" + Diagnoser.fmt(factor)
          : "lr=" + Diagnoser.fmt(lr)) + " from step " + f.to();
      RunSummary created = RunSummary.branched(runs.newId(), parent.spec().withName(n), System.currentTimeMillis(),
          parent.id(), f.to(), to == from ? null : new LrChange(f.to() + 1, from, t.nextLr(), "branch"));
      return new Branched(t, created, create(created));
    }, false)).onFailure(e -> release(false)).compose(p -> {
      Run run;
      try {
        run = runs.add(p.created(), false, new RunHistory(p.created().id(), p.log()));
      } finally {
        release(false);
      }
      Events.publish(vertx.eventBus(), run.summary());
      return vertx.deployVerticle(new RunVerticle(run, p.trainer(), true)).map(deployment -> {
        run.deploymentId(deployment);
        return run;
      });
    });
  }

  /** A fork of a run that has no verticle (it ended, or a restart interrupted it): from its last checkpoint on. */
  private Fork checkpointFork(Run run, long at) {
    State s = store.snapshot(run.id());
    if (s == null) throw conflict(run, "has no checkpoint to branch from");
    long from = s.integer("step");
    long to = at < 0 ? run.history().lastStep() : at;
    if (to < from || to > run.history().lastStep()) {
      throw conflict(run, "can be branched from steps " + from + " to " + run.history().lastStep() + " only, not " + to);
    }
    return new Fork(s, from, to, run.summary().lrChanges().stream().filter(c -> c.step() > from && c.step() <= to).toList());
  }

  /** The run once it has ended (at once if it has): its last state is told on the event bus. */
  public Future<Run> ended(Run run) {
    Promise<Run> done = Promise.promise();
    MessageConsumer<RunEvent> c = Events.listen(vertx.eventBus(), Events.RUNS, new RunEvent.Listener() {
      @Override public void summary(RunSummary s) {
        if (s.id().equals(run.id()) && !s.state().isLive()) done.tryComplete(run);
      }
    });
    c.completion().onSuccess(x -> {   // it may have ended before the consumer was in place
      if (!run.summary().state().isLive()) done.tryComplete(run);
    });
    return done.future().onComplete(x -> c.unregister());
  }

  /**
   * Stops the run if it is going, forgets it, and tells everyone it is gone. Another node's run is deleted by its
   * node; a lost one is taken over to delete its files, or only forgotten when they are not here.
   */
  public Future<Void> delete(Run run) {
    if (run.summary().state() == RunState.LOST) {
      return adopt(run).recover(e -> Future.succeededFuture(run)).compose(r -> deleteHere(r));
    }
    if (!run.local()) return toOwner(run, "delete").mapEmpty();
    return deleteHere(run);
  }

  /** Asks the node that owns {@code run} to do {@code what} with it; 503 when that node does not answer. */
  private <T> Future<T> toOwner(Run run, String what) {
    return vertx.eventBus().<T>request(Events.node(run.owner(), what), run.id()).map(m -> m.body())
        .recover(e -> e instanceof ReplyException r && r.failureType() != ReplyFailure.RECIPIENT_FAILURE
            ? Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 503, "run " + run.id()
                + " is on another node of the cluster, which did not answer; try again"))
            : Future.failedFuture(e));
  }

  private Future<Void> deleteHere(Run run) {
    runs.remove(run.id());
    Future<Void> undeployed = run.deploymentId() == null ? Future.succeededFuture() : vertx.undeploy(run.deploymentId());
    return undeployed.onComplete(x -> vertx.eventBus().publish(Events.RUNS,
        run.summary().withState(RunState.DELETED, System.currentTimeMillis()), Events.LOCAL));
  }
}
