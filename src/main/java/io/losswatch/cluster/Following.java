package io.losswatch.cluster;

import io.losswatch.event.Events;
import io.losswatch.event.Follow;
import io.losswatch.event.HistoryRead;
import io.losswatch.event.RunEvent;
import io.losswatch.event.RunRefusal;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.history.RunHistory;
import io.losswatch.run.Peers;
import io.losswatch.run.Run;
import io.losswatch.run.RunFiles;
import io.losswatch.run.RunRegistry;
import io.losswatch.run.Steps;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * What this node's clients follow of other nodes' runs, and how it gets their steps ({@link Peers}). A run's owner is
 * asked ({@link Follow}) for every step while any client here follows the run in {@code all} mode, for its live
 * buckets at the fastest rate asked while only {@code live} clients do, and for nothing once the last one left; what
 * it sends is re-told here on {@link Events#MIRRORED}. Reads go to the owner (request/reply), or, once it left the
 * cluster, to the data folder the nodes share. The follow counts live on the cluster verticle's event loop; the
 * methods of {@link Peers} may be called from any.
 */
final class Following implements Peers {
  private static final Logger LOG = Logger.getLogger(Following.class.getName());
  /** A read or a follow the owner does not answer in this time is asked again (the owner may be busy). */
  private static final DeliveryOptions ASK = new DeliveryOptions().setSendTimeout(10_000);
  private static final long RETRY_MS = 1000;
  /** Steps a history read from another node takes at most in one message (about 2.6 MB on the wire). */
  static final int CHUNK = 1 << 16;
  private final Vertx vertx;
  private final Context context;
  /** History reads each node has yet to answer: failed when it leaves, so they read the shared folder at once. */
  private final Map<String, Set<Promise<StepBatch>>> reading = new ConcurrentHashMap<>();
  /**
   * The newest steps of each run followed here for every step, as they came: its owner's log may not hold them yet,
   * so once the owner is gone (SIGKILL) a read finds them here, after what the shared folder holds.
   */
  private final Map<String, Tail> tails = new ConcurrentHashMap<>();
  /** Steps of other nodes' runs read ahead for the clients here that catch up with them. */
  private final ReadAhead readAhead = new ReadAhead();

  /** A run's newest batches, and how many steps they hold (guarded by itself). */
  static final class Tail {
    private final java.util.ArrayDeque<StepBatch> batches = new java.util.ArrayDeque<>();
    private int steps;

    /** Keeps {@code b}, the newest, and forgets the oldest beyond {@link #TAIL} steps, or all of another cycle. */
    synchronized void add(StepBatch b) {
      if (!batches.isEmpty() && batches.peekLast().cycle() != b.cycle()) {
        batches.clear();
        steps = 0;
      }
      batches.addLast(b);
      steps += b.size();
      while (steps - batches.peekFirst().size() >= TAIL) steps -= batches.removeFirst().size();
    }
  }
  /** Steps a tail keeps at most (a few seconds of a fast run; about 2.6 MB). */
  static final int TAIL = 1 << 16;
  private final String me;
  private final RunRegistry runs;
  private final RunFiles files;
  private final Consumer<RunEvent> retell;
  private final BiConsumer<String, RunSummary> told;
  private final Map<String, Wanted> wanted = new HashMap<>();
  private long seq;

  /** This node's clients' interest in one run of another node, and what its owner was asked. */
  private static final class Wanted {
    int every;
    final TreeMap<Double, Integer> live = new TreeMap<>();   // by rate, how many clients
    Follow asked;          // the last word sent to the owner, null: none
    String of;             // the node it was sent to
    boolean answered;      // whether that node answered it
    final List<Promise<Void>> waiting = new ArrayList<>();

    boolean none() {
      return every == 0 && live.isEmpty();
    }
  }

  /**
   * {@code retell}: hands what the owners send to this node's clients; {@code told}: the summary a run's owner
   * answered a follow with (the run as it stood when its steps started coming here).
   */
  Following(Vertx vertx, Context context, String me, RunRegistry runs, RunFiles files, Consumer<RunEvent> retell,
      BiConsumer<String, RunSummary> told) {
    this.vertx = vertx;
    this.context = context;
    this.me = me;
    this.runs = runs;
    this.files = files;
    this.retell = retell;
    this.told = told;
  }

  @Override public Future<Void> follow(Run run, Steps.Interest interest) {
    Promise<Void> ready = Promise.promise();
    context.runOnContext(v -> {
      Wanted w = wanted.computeIfAbsent(run.id(), k -> new Wanted());
      if (interest.every()) w.every++;
      else w.live.merge(interest.hz(), 1, Integer::sum);
      w.waiting.add(ready);
      ask(run.id(), w);
    });
    return ready.future();
  }

  @Override public void unfollow(String run, Steps.Interest interest) {
    context.runOnContext(v -> {
      Wanted w = wanted.get(run);
      if (w == null) return;   // followed while it was this node's own
      if (interest.every()) w.every = Math.max(0, w.every - 1);
      else if (w.live.containsKey(interest.hz()) && w.live.merge(interest.hz(), -1, Integer::sum) <= 0) {
        w.live.remove(interest.hz());
      }
      ask(run, w);
    });
  }

  /**
   * Tells the run's owner what this node's clients want of it now (every step, buckets at the fastest rate asked,
   * or nothing), unless it was told so already; the clients waiting for the steps to come here are let go once it
   * answered, or at once when there is no owner to ask (the run went, is this node's own now, or its node left: then
   * its steps are read from the shared data folder).
   */
  private void ask(String id, Wanted w) {
    Run run = runs.get(id).orElse(null);
    String owner = run == null || run.local() || run.summary().state() == RunState.LOST ? null : run.owner();
    boolean every = w.every > 0;
    double hz = every || w.live.isEmpty() ? 0 : w.live.lastKey();
    if (w.none()) {
      wanted.remove(id);
      if (run == null || run.summary().state() != RunState.LOST) tails.remove(id);
      if (owner != null && w.asked != null && owner.equals(w.of)) {
        vertx.eventBus().send(Events.node(owner, "follow"), new Follow(id, me, false, 0, ++seq));
      }
      release(w);
      return;
    }
    if (owner == null) {
      w.asked = null;
      w.of = null;
      release(w);
      return;
    }
    if (w.asked != null && owner.equals(w.of) && w.asked.every() == every && w.asked.hz() == hz) {
      if (w.answered) release(w);   // else its answer lets them go
      return;
    }
    Follow f = new Follow(id, me, every, hz, ++seq);
    w.asked = f;
    w.of = owner;
    w.answered = false;
    vertx.eventBus().<RunSummary>request(Events.node(owner, "follow"), f, ASK).onComplete(ar -> {
      if (w.asked != f) return;   // asked otherwise since
      if (ar.succeeded() || RunRefusal.of(ar.cause()) != null) {   // a refusal: the run is gone from there
        w.answered = true;
        if (ar.succeeded()) told.accept(owner, ar.result().body());
        release(w);
        return;
      }
      LOG.fine(() -> "node " + owner + " did not answer a follow of run " + id + " (" + ar.cause().getMessage() + ")");
      w.asked = null;
      vertx.setTimer(RETRY_MS, t -> {
        if (wanted.get(id) == w && w.asked == null) ask(id, w);
      });
    });
  }

  private static void release(Wanted w) {
    List<Promise<Void>> ready = new ArrayList<>(w.waiting);
    w.waiting.clear();
    ready.forEach(Promise::tryComplete);
  }

  /** Run {@code run} is owned by another node than it was asked of: it is asked there, if wanted. */
  void moved(Run run) {
    Wanted w = wanted.get(run.id());
    if (w == null) return;
    w.asked = null;
    w.of = null;
    ask(run.id(), w);
  }

  /** Node {@code node} left: what it was asked for will not come; the clients waiting read the shared folder. */
  void left(String node) {
    Set<Promise<StepBatch>> unanswered = reading.remove(node);
    if (unanswered != null) {
      RunRefusal gone = RunRefusal.of(RunRefusal.Kind.UNAVAILABLE, "node " + node + " left the cluster");
      for (Promise<StepBatch> p : unanswered) p.tryFail(gone);
    }
    for (Wanted w : wanted.values()) {
      if (!node.equals(w.of)) continue;
      w.asked = null;
      w.of = null;
      release(w);
    }
  }

  /** Node {@code from} sent steps (a batch, a bucket) or an alert of a run: re-told here while it is followed. */
  void sent(String from, RunEvent e, String run) {
    Wanted w = wanted.get(run);
    if (w != null && from != null && from.equals(w.of)) retell.accept(e);
  }

  /** Node {@code from} sent steps of a run: re-told here while it is followed, and kept while it is for every step. */
  void sent(String from, StepBatch b) {
    Wanted w = wanted.get(b.run());
    if (w == null || from == null || !from.equals(w.of)) return;
    if (w.every > 0) keep(b);
    retell.accept(b);
  }

  private void keep(StepBatch b) {
    tails.computeIfAbsent(b.run(), k -> new Tail()).add(b);
  }

  /**
   * {@code f}, what the shared folder holds of what {@code q} asks, and then the steps of {@code tail} (null: none)
   * that came here after it, each with every column it came with (metrics, curvature).
   */
  static StepBatch withTail(StepBatch f, HistoryRead q, Tail tail) {
    if (tail == null || q.maxPoints() > 0 || q.stretch() > 0) return f;
    long after = f.size() > 0 ? f.lastStep() : q.from() - 1;
    StepBatch.Builder out = new StepBatch.Builder(Math.max(1, f.size()));
    int cycle = f.cycle();
    for (int i = 0; i < f.size(); i++) out.add(f, i);
    long count = f.size();
    synchronized (tail) {
      for (StepBatch b : tail.batches) {
        if (f.size() > 0 && b.cycle() != f.cycle()) continue;
        cycle = b.cycle();
        for (int i = 0; i < b.size() && count < q.count(); i++) {
          if (b.step()[i] <= after || b.step()[i] > q.to()) continue;
          out.add(b, i);
          after = b.step()[i];
          count++;
        }
      }
    }
    return count == f.size() ? f : out.build(q.run(), cycle);
  }

  /** How many runs of other nodes this node follows (tests, the bench). */
  int size() {
    return wanted.size();
  }

  @Override public Future<StepBatch> read(Run run, HistoryRead q) {
    if (run.summary().state() == RunState.LOST) {   // its node left: the shared data folder, if the nodes share one
      return vertx.executeBlocking(() -> {
        RunHistory h = files.peek(run.id());
        return withTail(h == null ? new StepBatch.Builder(1).build(run.id(), run.cycle()) : h.read(q), q, tails.get(q.run()));
      }, false);
    }
    int ahead = ReadAhead.steps(run.metricStats().size());
    if (ReadAhead.serves(q, ahead)) {   // a client catching up: its reads take their steps from a few round trips
      return readAhead.read(q, run.cycle(), run.owner(), ahead, r -> ask(run, r), System.currentTimeMillis());
    }
    if (q.maxPoints() > 0 || q.stretch() > 0 || q.count() <= CHUNK) return ask(run, q);
    return chunks(run, q, q.from(), q.count(), new ArrayList<>());   // every step of a long range: a message a chunk
  }

  /** Forgets what was read ahead and is no longer read; called every tick. */
  void tick(long now) {
    readAhead.expire(now);
  }

  /** Reads every step {@code q} asks for from {@code from} on, {@code left} at most, a chunk a request, joined. */
  private Future<StepBatch> chunks(Run run, HistoryRead q, long from, long left, List<StepBatch> parts) {
    int n = (int) Math.min(left, CHUNK);
    return ask(run, new HistoryRead(q.run(), from, q.to(), 0, n, 0)).compose(b -> {
      if (!parts.isEmpty() && b.cycle() != parts.get(0).cycle()) {   // the run started over meanwhile: read it anew
        parts.clear();
        return chunks(run, q, q.from(), q.count(), parts);
      }
      if (b.size() > 0) parts.add(b);
      if (b.size() < n || b.lastStep() >= q.to()) return Future.succeededFuture(joined(parts, b));
      return chunks(run, q, b.lastStep() + 1, left - b.size(), parts);
    });
  }

  private Future<StepBatch> ask(Run run, HistoryRead q) {
    String owner = run.owner();
    Promise<StepBatch> answer = Promise.promise();
    Set<Promise<StepBatch>> pending = reading.computeIfAbsent(owner, k -> ConcurrentHashMap.newKeySet());
    pending.add(answer);
    vertx.eventBus().<StepBatch>request(Events.node(owner, "history"), q, ASK).map(m -> m.body())
        .recover(e -> Future.failedFuture(e instanceof ReplyException r && r.failureType() != ReplyFailure.RECIPIENT_FAILURE
            ? RunRefusal.of(RunRefusal.Kind.UNAVAILABLE, "run " + run.id() + " is on another node of the cluster, which did"
                + " not answer for its steps; try again")
            : e))
        .onComplete(ar -> {
          pending.remove(answer);
          if (ar.succeeded()) answer.tryComplete(ar.result());
          else answer.tryFail(ar.cause());
        });
    // its node left meanwhile (a killed node never answers: the send would time out): the shared data folder
    return answer.future().recover(e -> run.summary().state() == RunState.LOST ? read(run, q) : Future.failedFuture(e));
  }

  /** The chunks as one batch, every column of each ({@code last}, the last answer, when there is at most one). */
  static StepBatch joined(List<StepBatch> parts, StepBatch last) {
    if (parts.size() <= 1) return parts.isEmpty() ? last : parts.get(0);
    StepBatch.Builder out = new StepBatch.Builder(parts.stream().mapToInt(StepBatch::size).sum());
    for (StepBatch b : parts) for (int i = 0; i < b.size(); i++) out.add(b, i);
    return out.build(parts.get(0).run(), parts.get(0).cycle());
  }
}
