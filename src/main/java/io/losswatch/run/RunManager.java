package io.losswatch.run;

import io.losswatch.core.Description;
import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import io.losswatch.core.config.Json;
import io.losswatch.event.Append;
import io.losswatch.event.Appended;
import io.losswatch.event.Events;
import io.losswatch.event.Finish;
import io.losswatch.event.Fork;
import io.losswatch.event.LrChange;
import io.losswatch.event.RunCommand;
import io.losswatch.event.RunEvent;
import io.losswatch.event.RunRefusal;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.history.RunHistory;
import io.losswatch.history.StepLog;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Starts, commands and deletes runs: one {@link RunLifecycle} per run, spread over the event loops by Vert.x. The one
 * place that turns a spec into a live run, for the REST API, sweeps and the demo gallery alike, and that says why a
 * request about a run is refused ({@link RunRefusal}): a run's own word, or, when its verticle does not answer, what
 * the run's state says it means.
 */
public final class RunManager {
  private final Vertx vertx;
  private final RunRegistry runs;
  private final RunFiles files;
  private final int maxRuns;
  private final AtomicInteger starting = new AtomicInteger();   // places reserved by runs not yet registered
  private final Set<String> resuming = ConcurrentHashMap.newKeySet();
  private final Sweeps sweeps;
  private final Takeover takeover;
  private final Forks forks;
  private final Steps steps;
  private volatile Placement placement = Placement.HERE;
  private volatile boolean closing;

  public RunManager(Vertx vertx, RunRegistry runs, RunFiles files, int maxRuns) {
    this.vertx = vertx;
    this.runs = runs;
    this.files = files;
    this.maxRuns = maxRuns;
    this.sweeps = new Sweeps(vertx, runs, this::launchAll, run -> command(run, RunCommand.of(RunCommand.Kind.STOP)));
    this.takeover = new Takeover(vertx, runs, files);
    this.forks = new Forks(files);
    this.steps = new Steps(vertx);
  }

  private record Prepared(Trainer trainer, StepLog log) {
  }

  private record Branched(Trainer trainer, RunSummary created, StepLog log) {
  }

  public Sweeps sweeps() {
    return sweeps;
  }

  public RunRegistry runs() {
    return runs;
  }

  /** Where any run's steps are read and followed, whichever node owns it. */
  public Steps steps() {
    return steps;
  }

  /** What the runs have on disk (the cluster reads a departed node's runs from a shared data folder). */
  public RunFiles files() {
    return files;
  }

  public int maxRuns() {
    return maxRuns;
  }

  /** Whether another run fits under the cap. */
  public boolean full() {
    // starting first: a run moves from starting into runs by add, then release, so it is never counted zero times
    return starting.get() + runs.size() >= maxRuns;
  }

  /**
   * Takes {@code n} places under the cap for runs about to start, before their asynchronous start: two requests on
   * two event loops cannot both take the last one. Each is given back once its run is registered, or its start
   * failed.
   */
  private synchronized boolean reserve(int n) {
    if (starting.get() + runs.size() + n > maxRuns) return false;
    starting.addAndGet(n);
    return true;
  }

  private void release() {
    starting.decrementAndGet();
  }

  private RunRefusal tooMany(int more) {
    return RunRefusal.of(RunRefusal.Kind.TOO_MANY, "too many runs: at most " + maxRuns + " on this server"
        + (more > 1 ? ", and " + more + " more would pass that (it has " + (starting.get() + runs.size()) + ")" : ""));
  }

  /**
   * The server is stopping: from now on, appends are refused as {@link RunRefusal.Kind#UNAVAILABLE} (the script sends
   * them again to the server that comes back), before any run's verticle goes.
   */
  public void close() {
    closing = true;
  }

  /** Where runs created through the API go, once this node joined a cluster. */
  public void placement(Placement p) {
    placement = p;
  }

  /** A run created through the API, and the node it lives on (null when alone). */
  public record Created(Run run, Placement.Node node) {
  }

  /**
   * Creates a run through the API: on this node, or, in a cluster, on a less busy node when the placement says so
   * ({@code here}: on this node whatever the load). Another node that refuses or does not answer leaves the run
   * here, so a creation is never lost to the placement.
   */
  public Future<Created> create(RunSpec spec, boolean here) {
    Placement p = placement;
    String node = here ? null : p.where();
    if (node == null) return launch(spec, false).map(r -> new Created(r, p.self()));
    return p.create(node, spec)
        .map(placed -> new Created(runs.get(placed.summary().id()).orElseGet(() -> runs.mirror(placed.summary(), node)),
            placed.node()))
        .recover(e -> launch(spec, false).map(r -> new Created(r, p.self())));
  }

  /**
   * Starts a run; demo runs are kept in memory only, every other run is persisted (and counts against the cap:
   * {@link RunRefusal.Kind#TOO_MANY}; a run whose files cannot be created is {@link RunRefusal.Kind#NO_SPACE}).
   */
  public Future<Run> launch(RunSpec spec, boolean demo) {
    if (!demo && !reserve(1)) return Future.failedFuture(tooMany(1));
    return start(spec, demo);
  }

  /**
   * Starts every spec, or none: the places are taken for all of them first ({@link RunRefusal.Kind#TOO_MANY} when
   * they do not all fit), and if any fails to start, those that did are deleted.
   */
  public Future<List<Run>> launchAll(List<RunSpec> specs) {
    if (!reserve(specs.size())) return Future.failedFuture(tooMany(specs.size()));
    List<Future<Run>> started = new ArrayList<>();
    for (RunSpec s : specs) started.add(start(s, false));
    return Future.join(started).transform(x -> {
      Throwable failed = started.stream().filter(Future::failed).map(Future::cause).findFirst().orElse(null);
      if (failed == null) return Future.succeededFuture(started.stream().map(Future::result).toList());
      return Future.join(started.stream().filter(Future::succeeded).map(f -> deleteHere(f.result())).toList())
          .transform(y -> Future.failedFuture(failed));
    });
  }

  /** Starts a run whose place under the cap is taken (a persisted one's is given back once it is registered). */
  private Future<Run> start(RunSpec spec, boolean demo) {
    RunSummary created = RunSummary.created(runs.newId(), spec, System.currentTimeMillis());
    String id = created.id();
    // a problem's first trainer may read its dataset, and a log means files: off the event loop
    return vertx.executeBlocking(() -> new Prepared(spec.external() ? null : new Trainer(spec),
            demo ? null : create(created)), false)
        .onFailure(e -> {
          if (!demo) release();
        })
        .compose(p -> {
          Run run;
          try {
            run = runs.add(created, demo, new RunHistory(id, p.log));
          } finally {
            if (!demo) release();   // registered (or not): runs.size() counts it from here on
          }
          Events.publish(vertx.eventBus(), run.summary());
          RunLifecycle life = spec.external() ? RunLifecycle.script(run, new RunPolicy(spec), false)
              : RunLifecycle.builtIn(run, p.trainer, false);
          return vertx.deployVerticle(life).map(deployment -> {
            run.deploymentId(deployment);
            if (runs.get(id).isEmpty()) vertx.undeploy(deployment);   // deleted while it was starting
            return run;
          });
        });
  }

  private StepLog create(RunSummary created) {
    try {
      return files.create(created);
    } catch (IOException e) {
      throw RunRefusal.of(RunRefusal.Kind.NO_SPACE, "storage: cannot create the files of a new run: "
          + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    }
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
   * Hands a script's {@link Append} to its run. Refused as {@link RunRefusal.Kind#ENDED} only when the run ended for
   * good (finished, diverged, failed, stopped by a person); while the server starts or stops, or the run's verticle
   * is not there (being deployed, undeployed, taken over), it is {@link RunRefusal.Kind#UNAVAILABLE}: send it again.
   */
  public Future<Appended> append(Run run, Append a) {
    return toScript(run, Events.append(run.id()), a);
  }

  /** Hands a script's {@link Finish} to its run; refused as {@link #append} is. */
  public Future<RunSummary> finish(Run run, Finish f) {
    return toScript(run, Events.finish(run.id()), f);
  }

  private <T> Future<T> toScript(Run run, String address, Object message) {
    if (closing) return Future.failedFuture(unavailable(run, "the server is stopping"));
    if (run.summary().state() == RunState.LOST) return adopt(run).compose(r -> toScript(r, address, message));
    if (!run.spec().external()) {
      return Future.failedFuture(RunRefusal.invalid("id", "run " + run.id() + " is trained by this server: it takes no"
          + " steps from outside (create one with \"source\": \"external\")"));
    }
    return vertx.eventBus().<T>request(address, message).map(m -> m.body())
        .recover(e -> Future.failedFuture(unanswered(run, e)));
  }

  /**
   * Why a script's run did not take what it was sent, when its verticle did not answer for itself: it ended for good
   * (its verticle went with its end), or it is not there now (no verticle yet, one going, or a message caught as its
   * consumer went, which Vert.x discards with a TIMEOUT at once).
   */
  private Throwable unanswered(Run run, Throwable e) {
    if (!(e instanceof ReplyException r) || r.failureType() == ReplyFailure.RECIPIENT_FAILURE) return e;
    RunState s = run.summary().state();
    if (RunRefusal.isEnd(s)) return RunRefusal.ended(run.id(), s, "it takes no more steps");
    return unavailable(run, closing ? "the server is stopping" : r.failureType() == ReplyFailure.TIMEOUT
        ? "it did not take them in time" : "it is not taking steps here now (the server is starting or stopping, or"
        + " the run is moving)");
  }

  private static RunRefusal unavailable(Run run, String why) {
    return RunRefusal.of(RunRefusal.Kind.UNAVAILABLE, "run " + run.id() + ": " + why + "; send them again");
  }

  /**
   * Sends a command to a run's verticle: its summary after it, or its refusal. A run without a verticle refuses
   * as {@link RunRefusal.Kind#CONFLICT} when it is not live (ended, interrupted, lost), else it is not there now:
   * {@link RunRefusal.Kind#UNAVAILABLE}.
   */
  public Future<RunSummary> command(Run run, RunCommand command) {
    return vertx.eventBus().<RunSummary>request(Events.commands(run.id()), command)
        .map(m -> m.body())
        .recover(e -> Future.failedFuture(e instanceof ReplyException r && r.failureType() != ReplyFailure.RECIPIENT_FAILURE
            ? noVerticle(run) : e));
  }

  private static RunRefusal noVerticle(Run run) {
    RunState s = run.summary().state();
    return s.isLive()
        ? RunRefusal.of(RunRefusal.Kind.UNAVAILABLE, "run " + run.id() + " is not answering now (the server is starting"
            + " or stopping, or the run is moving); try again")
        : RunRefusal.of(RunRefusal.Kind.CONFLICT, "run " + run.id() + " is " + s.label());
  }

  /**
   * Resumes a run: a paused one by command; a built-in one a restart interrupted from its last checkpoint, exactly
   * ({@link Forks#resume}), running before this is answered; a script's run that a restart interrupted, or that ended
   * (its script crashed, or finished and is started again: W&amp;B's {@code resume="allow"}), runs again, its diagnosis,
   * the lrs it failed at and its guard's count replayed from its history, and numbers on from its last step.
   */
  public Future<RunSummary> resume(Run run) {
    if (run.summary().state() == RunState.LOST) return adopt(run).compose(this::resume);
    if (!run.local()) return toOwner(run, "resume");   // its node resumes it
    RunState state = run.summary().state();
    if (run.spec().external() && !state.isLive() && state != RunState.INTERRUPTED) return resumeScript(run);
    if (run.spec().external() || state != RunState.INTERRUPTED) {
      return command(run, RunCommand.of(RunCommand.Kind.RESUME));
    }
    if (!resuming.add(run.id())) return Future.failedFuture(Forks.conflict(run, "is being resumed already"));
    return vertx.executeBlocking(() -> forks.resume(run), false)
        .compose(trainer -> vertx.deployVerticle(RunLifecycle.builtIn(run, trainer, true)))
        .map(deployment -> {
          run.deploymentId(deployment);
          return run.summary();
        })
        .onComplete(x -> resuming.remove(run.id()));
  }

  /**
   * A script's run that ended runs again: by its verticle, if it still has one (it is about to let go of it: try
   * again), else by a new one, its policy replayed off the event loop.
   */
  private Future<RunSummary> resumeScript(Run run) {
    if (!resuming.add(run.id())) return Future.failedFuture(Forks.conflict(run, "is being resumed already"));
    return vertx.eventBus().<RunSummary>request(Events.commands(run.id()), RunCommand.of(RunCommand.Kind.RESUME))
        .map(m -> m.body())
        .recover(e -> {
          if (!(e instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS)) return Future.failedFuture(e);
          return vertx.executeBlocking(() -> RunPolicy.replayed(run.spec(), run.history(), run.summary()), false)
              .compose(policy -> vertx.deployVerticle(RunLifecycle.script(run, policy, true)))
              .map(deployment -> {
                run.deploymentId(deployment);
                return run.summary();
              });
        })
        .onComplete(x -> resuming.remove(run.id()));
  }

  /**
   * Starts a branch of {@code parent}: a new run from its exact state after step {@code at} (-1: its current
   * step), with the lr ×{@code factor} or set to {@code lr} (under a schedule, the schedule's output scaled, as
   * {@code /lr} does). A live run gives its state (the nearest snapshot, replayed here off the event loop); one
   * that ended or was interrupted gives its last checkpoint.
   */
  public Future<Run> branch(Run parent, long at, double factor, double lr, String name) {
    if (parent.spec().external()) return Future.failedFuture(Forks.conflict(parent, "is trained elsewhere: it can't be branched here"));
    if (!reserve(1)) return Future.failedFuture(tooMany(1));
    Future<Fork> fork = vertx.eventBus().<Fork>request(Events.commands(parent.id()), RunCommand.branch(at))
        .map(m -> m.body())
        .recover(e -> e instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS
            ? vertx.executeBlocking(() -> forks.fromCheckpoint(parent, at), false) : Future.failedFuture(e));
    return fork.compose(f -> vertx.executeBlocking(() -> {
      Trainer t = forks.branch(parent, f);
      double from = t.nextLr();
      double to = !Double.isNaN(lr) ? lr : factor == 1 ? from : RunPolicy.nice(from * factor);
      if (to != from) t.setLr(to);
      String n = name != null ? name : parent.spec().name() + " " + (Double.isNaN(lr) ? "×" + RunPolicy.fmt(factor)
          : "lr=" + RunPolicy.fmt(lr)) + " from step " + f.to();
      RunSummary created = RunSummary.branched(runs.newId(), parent.spec().withName(n), System.currentTimeMillis(),
          parent.id(), f.to(), to == from ? null : new LrChange(f.to() + 1, from, t.nextLr(), "branch"));
      return new Branched(t, created, create(created));
    }, false)).onFailure(e -> release()).compose(p -> {
      Run run;
      try {
        run = runs.add(p.created(), false, new RunHistory(p.created().id(), p.log()));
      } finally {
        release();
      }
      Events.publish(vertx.eventBus(), run.summary());
      return vertx.deployVerticle(RunLifecycle.builtIn(run, p.trainer(), true)).map(deployment -> {
        run.deploymentId(deployment);
        return run;
      });
    });
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
      return adopt(run).recover(e -> Future.succeededFuture(run)).compose(this::deleteHere);
    }
    if (!run.local()) return toOwner(run, "delete").mapEmpty();
    return deleteHere(run);
  }

  /**
   * Changes a run's tags and notes, in any state: its spec from now on, in run.json (the store writes the summary
   * that says it) and in every summary. A live run's verticle tells it, so no summary of its older spec follows;
   * one without (ended, interrupted) is told here. Another node's run: its node does it.
   */
  public Future<RunSummary> describe(Run run, Description d) {
    if (!run.local()) {
      Map<String, Object> change = new java.util.LinkedHashMap<>();
      change.put("tags", d.tags());
      change.put("notes", d.notes() == null ? "" : d.notes());
      return toOwner(run, "describe", Json.write(Map.of("run", run.id(), "change", change)));
    }
    run.describe(d);
    return command(run, RunCommand.of(RunCommand.Kind.DESCRIBE)).recover(e -> {
      RunSummary s = run.summary().withSpec(run.spec(), System.currentTimeMillis());
      run.summary(s);
      Events.publish(vertx.eventBus(), s);
      return Future.succeededFuture(s);
    });
  }

  /** Asks the node that owns {@code run} to do {@code what} with it; unavailable when that node does not answer. */
  private <T> Future<T> toOwner(Run run, String what) {
    return toOwner(run, what, run.id());
  }

  private <T> Future<T> toOwner(Run run, String what, String body) {
    return vertx.eventBus().<T>request(Events.node(run.owner(), what), body).map(m -> m.body())
        .recover(e -> Future.failedFuture(e instanceof ReplyException r && r.failureType() != ReplyFailure.RECIPIENT_FAILURE
            ? RunRefusal.of(RunRefusal.Kind.UNAVAILABLE, "run " + run.id() + " is on another node of the cluster, which"
                + " did not answer; try again")
            : e));
  }

  private Future<Void> deleteHere(Run run) {
    runs.remove(run.id());
    Future<Void> undeployed = run.deploymentId() == null ? Future.succeededFuture() : vertx.undeploy(run.deploymentId());
    return undeployed.onComplete(x -> Events.publish(vertx.eventBus(),
        run.summary().withState(RunState.DELETED, System.currentTimeMillis())));
  }
}
