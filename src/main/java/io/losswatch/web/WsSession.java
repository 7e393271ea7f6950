package io.losswatch.web;

import io.losswatch.event.Alert;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.event.HistoryRead;
import io.losswatch.event.RunRefusal;
import io.losswatch.run.Run;
import io.losswatch.run.RunRegistry;
import io.losswatch.run.Steps;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One WebSocket client: its subscriptions and its outbound flow. Lives on the gateway's event loop only.
 *
 * <p>Everything sent counts against the client's bounded queue ({@link Outbound}), and nothing is buffered as
 * text per client. In {@code live} mode the client gets one frame per tick with every run's bucket that is
 * due, and only while it reads close behind; meanwhile buckets keep conflating, so it never reads stale
 * steps. In {@code all} mode it gets every step exactly once, at its own pace: from the batches while it
 * keeps up, from the history when it is behind ({@link ExactSubscription}). Alerts and errors wait up to
 * {@link #MAX_NOTICES}; later ones are dropped and counted.
 */
final class WsSession {
  enum Mode { LIVE, ALL }

  private static final Logger LOG = Logger.getLogger(WsSession.class.getName());
  /** Alerts and errors kept while the queue is full. */
  static final int MAX_NOTICES = 8;
  /** History reads one client may have under way; the others wait their turn. */
  static final int MAX_LOADING = 4;
  /** Sessions' ticks, and the subscriptions they looked at: a tick's work, which tests read. */
  static final AtomicLong TICKS = new AtomicLong();
  static final AtomicLong VISITS = new AtomicLong();

  private final Vertx vertx;
  private final Token token;
  private boolean authenticated;   // it may subscribe: no token needed, or shown
  private final Outbound out;
  private final RunRegistry runs;
  private final Steps steps;
  private final HistoryCache histories;
  private final SummaryTexts texts;
  private final Counter dropped;
  private final Map<String, Subscription> subs = new LinkedHashMap<>();
  /** The subscriptions with something waiting (a summary, a history, a chunk to read): the tick looks at these. */
  private final Set<Subscription> unsettled = new LinkedHashSet<>();
  /** The live subscriptions with a bucket waiting: a frame looks at these, not at every run. */
  private final Set<LiveSubscription> buckets = new LinkedHashSet<>();
  private final ArrayDeque<String> notices = new ArrayDeque<>();
  private Mode wildcard;   // non-null: runs created later are subscribed too
  private double wildcardHz;
  private long wildcardFrom;
  private boolean wildcardBinary;
  private Iterator<Run> backlog;   // the wildcard's runs not subscribed yet: see introduce()
  private int loading;
  private boolean framesHeld;   // the client lags: due frames are held back (counted once as dropped)
  private long every;            // the fastest live subscription's interval: frames are looked for on its boundaries
  private long looked;           // when they last were

  WsSession(Vertx vertx, ServerWebSocket ws, RunRegistry runs, Steps steps, HistoryCache histories, SummaryTexts texts,
      Counter dropped, Token token, boolean authenticated) {
    this.token = token;
    this.authenticated = authenticated;
    this.vertx = vertx;
    this.out = new Outbound(ws);
    out.onRoom(this::roomAgain);
    this.runs = runs;
    this.steps = steps;
    this.histories = histories;
    this.texts = texts;
    this.dropped = dropped;
  }

  /** Whether the client may subscribe: the server's reads need no token, or it showed it. */
  boolean authenticated() {
    return authenticated;
  }

  /** Takes the client's token: true when it is the server's, or none is needed. */
  boolean authenticate(String given) {
    authenticated |= !token.guardsReads() || token.matches(given);
    return authenticated;
  }

  /**
   * Subscribes to runs ({@code "*"}: every run, and those created later); {@code fromStep} applies in all mode;
   * {@code binary}: their steps come as binary messages.
   */
  void subscribe(List<String> ids, Mode mode, double hz, long fromStep, boolean binary) {
    for (String id : ids) {
      if (id.equals("*")) {
        wildcard = mode;
        wildcardHz = hz;
        wildcardFrom = fromStep;
        wildcardBinary = binary;
        // the runs it follows take the new mode and rate now; the others come as the client reads, so a client
        // that stops reading holds the few it had room for, not thousands
        for (Subscription s : new ArrayList<>(subs.values())) runs.get(s.run).ifPresent(r -> add(r, mode, hz, fromStep, binary));
        backlog = runs.all().iterator();
        introduce();
      } else {
        Run r = runs.get(id).orElse(null);
        if (r == null) notice(Json.wsError("runs: no run with id " + Json.quote(id)));
        else add(r, mode, hz, fromStep, binary);
      }
    }
  }

  /** Subscribes to one run: its summary first, then its history (an overview, or every step), then what comes. */
  private Subscription add(Run run, Mode mode, double hz, long fromStep, boolean binary) {
    Subscription s = subs.get(run.id());
    if (s instanceof LiveSubscription live && mode == Mode.LIVE) {
      Steps.Interest was = live.interest();
      live.rate(hz);
      live.binary = binary;
      if (!was.equals(live.interest())) {   // the node follows the run at the fastest rate its clients ask
        steps.follow(run, live.interest());
        steps.unfollow(run.id(), was);
      }
      every = 0;
      return s;
    }
    if (s instanceof ExactSubscription && mode == Mode.ALL) {
      s.binary = binary;   // from its next message on
      return s;
    }
    if (s != null) drop(s);
    s = mode == Mode.LIVE ? new LiveSubscription(run.id(), run.cycle(), hz)
        : new ExactSubscription(run.id(), run.cycle(), fromStep);
    s.binary = binary;
    s.summary(run.summary(), texts.of(run.summary()));   // written once for every client
    subs.put(run.id(), s);
    follow(run, s);
    every = 0;
    advance(s, null);
    return s;
  }

  /**
   * The node follows the run's new steps for {@code s} (another node's run's come here only while a client follows
   * it); its history is read once they come.
   */
  private void follow(Run run, Subscription s) {
    Future<Void> ready = steps.follow(run, s.interest());
    if (ready.isComplete()) {
      s.following = true;   // this node's own run
      return;
    }
    ready.onComplete(x -> {
      s.following = true;
      if (subs.get(s.run) == s) advance(s, null);
    });
  }

  /** Lets go of {@code s}, and of the node's following of the run for it; once. */
  private void drop(Subscription s) {
    if (s.dropped) return;
    s.dropped = true;
    subs.remove(s.run, s);
    unsettled.remove(s);
    if (s instanceof LiveSubscription live) buckets.remove(live);
    steps.unfollow(s.run, s.interest());
  }

  /**
   * Subscribes the wildcard's next runs while the client has room for them and a history read to spare: what waits
   * for the tick stays a handful, however many runs there are.
   */
  private void introduce() {
    while (backlog != null && out.room() && loading < MAX_LOADING) {
      if (!backlog.hasNext()) {
        backlog = null;
        return;
      }
      Run r = backlog.next();
      VISITS.incrementAndGet();
      if (!subs.containsKey(r.id()) && runs.get(r.id()).isPresent()) add(r, wildcard, wildcardHz, wildcardFrom, wildcardBinary);
    }
  }

  void unsubscribe(List<String> ids) {
    for (String id : ids) {
      if (id.equals("*")) {
        wildcard = null;
        backlog = null;
        for (Subscription s : new ArrayList<>(subs.values())) drop(s);
      } else {
        Subscription s = subs.get(id);
        if (s != null) drop(s);
      }
      every = 0;
    }
  }

  void onBatch(Fanout f) {
    StepBatch b = f.batch;
    Subscription s = subs.get(b.run());
    if (s == null) {
      Run run = wildcard == null ? null : runs.get(b.run()).orElse(null);   // one the wildcard has yet to bring
      if (run == null) return;
      s = add(run, wildcard, wildcardHz, wildcardFrom, wildcardBinary);
    }
    if (b.cycle() < s.cycle) return;   // a cycle the run has left
    if (b.cycle() > s.cycle) s.restart(b.cycle());   // a demo run started over (its message usually comes first)
    if (s instanceof LiveSubscription live) {
      if (live.overview != LiveSubscription.Overview.DUE) {   // else the overview will hold it
        live.accumulate(f);
        buckets.add(live);
      }
    } else {
      advance(s, f);
    }
  }

  /** A live bucket of another node's run: live subscriptions take it like a batch; an all-mode one reads the history. */
  void onBucket(Fanout f) {
    Subscription s = subs.get(f.batch.run());
    if (s == null && wildcard == Mode.LIVE) {
      onBatch(f);   // subscribes the new run
      return;
    }
    if (s instanceof LiveSubscription) onBatch(f);
  }

  void onRun(RunSummary summary, String text) {
    Subscription s = subs.get(summary.id());
    if (s == null) {
      Run run = wildcard == null || summary.state() != RunState.CREATED ? null : runs.get(summary.id()).orElse(null);
      if (run != null) add(run, wildcard, wildcardHz, 1, wildcardBinary);
      return;
    }
    if (summary.state() == RunState.DELETED && !s.introduced()) {   // the client never heard of it
      drop(s);
      return;
    }
    if (summary.cycle() > s.cycle) s.restart(summary.cycle());   // a demo run starting over
    s.summary(summary, text);
    advance(s, null);
  }

  /** An alert follows the state change published before it: it waits while that does. */
  void onAlert(Alert alert, String text) {
    Subscription s = subs.get(alert.run());
    if (s == null) return;
    if (!s.summaryWaiting()) notice(text);
    else if (!s.holdAlert(text)) dropped.increment();
  }

  /** Sends the summary waiting in {@code s} if it may go, then the alerts that followed it; false if it still waits. */
  private boolean announce(Subscription s) {
    if (!s.sendSummary(out)) return false;
    for (String alert : s.takeAlerts()) notice(alert);
    return true;
  }

  /**
   * Called by the gateway every tick: the progress watch, the frame of due live buckets, then what waits for room
   * (notices, summaries, history reads, the wildcard's next runs). A client without room costs a few checks, however
   * many runs it follows.
   */
  void tick(long now, Map<Object, Object> written) {
    TICKS.incrementAndGet();
    if (out.watch(now)) return;
    while (!notices.isEmpty() && out.send(notices.peek())) notices.poll();
    sendFrame(now, written);
    moveWaiting();
  }

  /** The queue has room again: what waited for it goes now, not at the next tick (a fast reader reads on). */
  private void roomAgain() {
    while (!notices.isEmpty() && out.send(notices.peek())) notices.poll();
    moveWaiting();
  }

  /** What waits for room, as long as there is some: summaries, history reads, the wildcard's next runs. */
  private void moveWaiting() {
    if (!unsettled.isEmpty() && out.room()) {
      for (Subscription s : new ArrayList<>(unsettled)) {
        if (!out.room()) break;   // nothing of a subscription moves without room
        VISITS.incrementAndGet();
        advance(s, null);
      }
    }
    introduce();
  }

  /**
   * One message with every live bucket due now, if the client reads close behind; else the buckets keep
   * conflating. Clients due the same buckets share the frame's text ({@code written}, for this tick).
   */
  private void sendFrame(long now, Map<Object, Object> written) {
    if (every == 0) {   // subscriptions changed
      every = Long.MAX_VALUE;
      for (Subscription s : subs.values()) if (s instanceof LiveSubscription live) every = Math.min(every, live.intervalMs);
    }
    // frames go when the wall clock enters a new interval of the fastest run: only then is one looked for
    if (every == Long.MAX_VALUE || now / every == looked / every) return;
    looked = now;
    if (buckets.isEmpty()) return;
    // a client that lags gets no frame: its buckets grow, and it reads the newest once it has caught up; unless a
    // state change waits behind a bucket, which a client must not miss (and has room for)
    if (!out.room()) {
      holdFrames();
      return;
    }
    List<LiveSubscription> due = null;
    for (Iterator<LiveSubscription> it = buckets.iterator(); it.hasNext(); ) {
      LiveSubscription live = it.next();
      VISITS.incrementAndGet();
      if (subs.get(live.run) != live || !live.pending()) {
        it.remove();   // unsubscribed, or its bucket was dropped (the overview is read again)
      } else if (live.overview == LiveSubscription.Overview.SENT && live.due(now)) {
        if (due == null) due = new ArrayList<>();
        due.add(live);
      }
    }
    if (due == null) return;
    if (!out.fresh() && due.stream().noneMatch(Subscription::summaryWaiting)) {
      holdFrames();
      return;
    }
    framesHeld = false;
    List<String> entries = new ArrayList<>(due.size());
    List<StepBatch> batches = new ArrayList<>(0);
    for (LiveSubscription live : due) {
      if (live.binary) batches.add(live.takeBucket(written, now));
      else entries.add(live.take(written, now));
      buckets.remove(live);
    }
    // entries are shared texts (batches shared batches), so clients due the same buckets have equal lists: they
    // share the frame too
    if (!entries.isEmpty()) out.send((String) written.computeIfAbsent(entries, k -> Json.frame(now, entries)));
    if (!batches.isEmpty()) out.send((Buffer) written.computeIfAbsent(batches, k -> BinaryWire.frame(now, batches)));
  }

  /** Holds the due frames back, counted once as dropped while the client lags. */
  private void holdFrames() {
    if (!framesHeld) dropped.increment();
    framesHeld = true;
  }

  private void advance(Subscription s, Fanout f) {
    if (s instanceof LiveSubscription live) advanceLive(live);
    else advanceExact((ExactSubscription) s, f);
    settle(s);
  }

  /** Keeps {@code s} under the tick's eye while something of it waits; drops it once its deletion went out. */
  private void settle(Subscription s) {
    if (s.ended) {
      drop(s);
    } else if (subs.get(s.run) != s || s.settled()) {
      unsettled.remove(s);
    } else {
      unsettled.add(s);
    }
  }

  /** Live: the summary that introduces the run, its overview when there is room, then state changes in turn. */
  private void advanceLive(LiveSubscription s) {
    if (!s.introduced() && !announce(s)) return;
    if (s.overview == LiveSubscription.Overview.DUE) startOverview(s);
    if (s.overview == LiveSubscription.Overview.SENT) announce(s);
  }

  /** Reads the overview (once per run and last step, for every client: {@link HistoryCache}) when there is room. */
  private void startOverview(LiveSubscription s) {
    if (!s.following || loading >= MAX_LOADING || !out.room()) return;
    Run run = runs.get(s.run).orElse(null);
    if (run == null) return;   // being deleted: its deletion settles this subscription
    int cycle = run.cycle();
    long last = run.lastStep();   // another node's: at least where it stood when its buckets started coming here
    s.loading(cycle, last);
    Future<HistoryCache.Overview> f = histories.get(run, cycle, last);
    if (f.isComplete()) {
      overviewRead(s, f);
      return;
    }
    loading++;
    f.onComplete(ar -> {
      loading--;
      overviewRead(s, ar);
      settle(s);
    });
  }

  private void overviewRead(LiveSubscription s, AsyncResult<HistoryCache.Overview> ar) {
    if (subs.get(s.run) != s || s.overview != LiveSubscription.Overview.LOADING) return;   // gone or restarted
    if (ar.failed()) {
      if (runs.get(s.run).isEmpty()) return;   // deleted meanwhile: its deletion settles this subscription
      LOG.log(Level.WARNING, "cannot read the history of run " + s.run, ar.cause());
      notice(Json.wsError("cannot read the history of run " + s.run));
    } else if (ar.result().cycle() != s.cycle || !(ar.result().message() == null || sendOverview(s, ar.result()))) {
      s.overviewDue();   // no room after all (or a demo run started over): read again later
      return;
    }
    s.overview = LiveSubscription.Overview.SENT;
    if (ar.succeeded() && ar.result().tail() != null) {   // a shared overview: the steps since it, as the first bucket
      s.prepend(ar.result().lastStep(), ar.result().tail());
      buckets.add(s);
    }
    advance(s, null);
  }

  private boolean sendOverview(LiveSubscription s, HistoryCache.Overview o) {
    return s.binary ? out.send(o.binary()) : out.send(o.message());
  }

  /**
   * All mode: the summary that introduces the run, then the steps from the cursor on — from {@code f} when it
   * holds the next one (the batch as it comes), else from the history — then any state change whose steps are
   * all out.
   */
  private void advanceExact(ExactSubscription s, Fanout f) {
    if (!s.introduced() && !announce(s)) return;
    if (!s.reading && f != null && f.batch.cycle() == s.cycle) {
      StepBatch b = f.batch;
      if (b.firstStep() > s.next && !follows(b, s.next)) s.behind = true;   // steps before it are missing: read them
      else if (s.next <= b.lastStep() && !s.behind) sendFrom(s, f);
    }
    if (!s.reading && !s.behind && s.wantsSteps()) s.behind = true;   // a state change waits for steps no batch brought
    if (!s.reading && s.behind) catchUp(s);
    announce(s);
  }

  /** Whether the run has no step from {@code next} up to the batch's first (a script that logs every k steps). */
  private boolean follows(StepBatch b, long next) {
    Run run = runs.get(b.run()).orElse(null);
    if (run == null || !run.local()) return false;   // another node's run keeps no steps here: its history is read
    long before = run.history().stepBefore(b.firstStep());
    return before >= 0 && before < next;
  }

  /**
   * Sends the batch's steps from the cursor on, as long as there is room; the rest is read later. A message is
   * written only when it can go: what is formatted on the event loop is what one client's window takes.
   */
  private void sendFrom(ExactSubscription s, Fanout f) {
    StepBatch b = f.batch;
    int i = 0;
    while (b.step()[i] < s.next) i++;
    int per = f.perMessage(s.binary);
    int n = f.messages(i, s.binary);
    for (int k = 0; k < n; k++) {
      if (!out.room() || !(s.binary ? out.send(f.binary(i, k)) : out.send(f.text(i, k)))) {
        s.behind = true;
        return;
      }
      s.next = b.step()[Math.min(b.size(), i + (k + 1) * per) - 1] + 1;
    }
  }

  /**
   * Reads the next chunk of the history off the event loop (another node's run's from that node), if the client has
   * room; caught up, it stops. A failed read is tried again a second later.
   */
  private void catchUp(ExactSubscription s) {
    long now = System.currentTimeMillis();
    if (!s.following || loading >= MAX_LOADING || !out.room() || now < s.retryAt) return;
    Run run = runs.get(s.run).orElse(null);
    if (run == null) return;
    if (run.cycle() != s.cycle) return;   // the run started over: its message restarts this subscription
    boolean draining = s.waiting() != null && s.waiting().state() == RunState.LOST;
    if (s.next > run.lastStep() && !draining) {   // caught up: the batches bring the rest (any not yet here start right at the cursor)
      s.behind = false;
      return;
    }
    long from = s.next;
    s.reading = true;
    loading++;
    boolean binary = s.binary;
    int count = binary ? BinaryWire.MAX_STEPS_PER_MESSAGE : ExactSubscription.CHUNK;
    steps.read(run, HistoryRead.head(run.id(), from, count), b -> Chunk.of(b, from, binary)).onComplete(ar -> {
      loading--;
      s.reading = false;
      if (subs.get(s.run) != s) return;
      if (ar.failed()) {
        if (runs.get(s.run).isEmpty()) return;   // deleted meanwhile
        s.retryAt = System.currentTimeMillis() + 1000;
        if (!s.failing) {
          s.failing = true;
          if (RunRefusal.of(ar.cause()) == null) LOG.log(Level.WARNING, "cannot read the steps from " + from + " of run " + s.run, ar.cause());
          notice(Json.wsError("cannot read the history of run " + s.run + " from step " + from + " now; trying again"));
        }
        return;
      }
      s.failing = false;
      Chunk c = ar.result();
      if (c.cycle() > s.cycle) {
        s.restart(c.cycle());   // another node's run started a new cycle before its summary came
      } else if (c.cycle() == s.cycle) {
        if (c.message() == null) {   // nothing from the cursor on: caught up with what the history holds
          s.behind = false;
          s.drained = true;
        } else if (c.send(out)) {
          s.next = c.after();
        }
      }
      advance(s, null);
    });
  }

  /**
   * The next steps of a run's history from a step on, as one all-mode message, text or binary (null: there were
   * none), written off the event loop; {@code after} is the step to read from next.
   */
  private record Chunk(int cycle, Object message, long after) {
    static Chunk of(StepBatch b, long from, boolean binary) {
      if (b.size() == 0) return new Chunk(b.cycle(), null, from);
      if (!binary) return new Chunk(b.cycle(), Json.steps(b, 0, b.size(), true), b.lastStep() + 1);
      int n = Math.min(b.size(), BinaryWire.stepsPerMessage(b));   // fewer when the run has many metrics
      return new Chunk(b.cycle(), BinaryWire.steps(b, 0, n), b.step()[n - 1] + 1);
    }

    boolean send(Outbound out) {
      return message instanceof Buffer bytes ? out.send(bytes) : out.send((String) message);
    }
  }

  /** An alert or an error: sent now if it fits, else kept (a few), else dropped. */
  void notice(String text) {
    if (notices.isEmpty() && out.send(text)) return;
    if (notices.size() < MAX_NOTICES) notices.add(text);
    else dropped.increment();
  }

  /** Closes with {@code status}, cutting the connection if the close cannot complete. */
  Future<Void> close(short status, String reason) {
    return out.close(status, reason, System.currentTimeMillis());
  }

  /** The connection is gone. */
  void closed() {
    backlog = null;
    for (Subscription s : new ArrayList<>(subs.values())) drop(s);
    notices.clear();
  }
}
