package io.losswatch.web;

import io.losswatch.core.config.Json;
import io.losswatch.event.Alert;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.store.RunHistory;
import io.losswatch.train.Run;
import io.losswatch.train.RunRegistry;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocket;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One WebSocket client: its subscriptions and its outbound flow. Lives on the gateway's event loop only.
 *
 * <p>Flow control never touches a run, and everything sent counts against the client's bounded queue
 * ({@link Outbound}). When it is full, nothing is buffered as text: each subscription keeps its newest summary,
 * its history waits (the text stays in the shared {@link HistoryCache}), live buckets keep conflating and
 * all-mode steps become one {@code gap}; alerts and errors wait up to {@link #MAX_NOTICES}, later ones are
 * dropped. What is pending goes out on a later tick, in the run's order: summary, history, then steps, a
 * pending bucket or gap before the state change that followed it.
 */
final class WsSession {
  private static final Logger LOG = Logger.getLogger(WsSession.class.getName());
  /** Alerts and errors kept while the queue is full. */
  static final int MAX_NOTICES = 8;
  /** History reads one client may have under way; the others wait their turn. */
  static final int MAX_LOADING = 4;

  private final Outbound out;
  private final RunRegistry runs;
  private final HistoryCache histories;
  private final Counter dropped;
  private final Map<String, Subscription> subs = new LinkedHashMap<>();
  private final ArrayDeque<String> notices = new ArrayDeque<>();
  private Subscription.Mode wildcard;   // non-null: runs created later are subscribed too
  private double wildcardHz;
  private int loading;

  WsSession(ServerWebSocket ws, RunRegistry runs, HistoryCache histories, Counter dropped) {
    this.out = new Outbound(ws);
    this.runs = runs;
    this.histories = histories;
    this.dropped = dropped;
  }

  void subscribe(List<String> ids, Subscription.Mode mode, double hz) {
    for (String id : ids) {
      if (id.equals("*")) {
        wildcard = mode;
        wildcardHz = hz;
        for (Run r : runs.all()) add(r, mode, hz);
      } else {
        Run r = runs.get(id).orElse(null);
        if (r == null) notice(Wire.wsError("runs: no run with id " + Json.write(id)));
        else add(r, mode, hz);
      }
    }
  }

  /** Subscribes to one run: its summary, its history so far, then live steps after that history. */
  private void add(Run run, Subscription.Mode mode, double hz) {
    Subscription existing = subs.get(run.id());
    if (existing != null) {
      existing.configure(mode, hz);
      return;
    }
    Subscription s = new Subscription(run.id(), mode, hz);
    s.cycle = run.cycle();
    s.summary(run.summary(), null);
    subs.put(run.id(), s);
    flush(s, null, System.currentTimeMillis(), false);
  }

  void unsubscribe(List<String> ids) {
    for (String id : ids) {
      if (id.equals("*")) {
        wildcard = null;
        subs.clear();
      } else {
        subs.remove(id);
      }
    }
  }

  void onBatch(Fanout f) {
    StepBatch b = f.batch;
    Subscription s = subs.get(b.run());
    if (s == null) {
      if (wildcard != null) runs.get(b.run()).ifPresent(r -> add(r, wildcard, wildcardHz));
      return;   // a new subscriber's history holds this batch
    }
    if (b.cycle() < s.cycle || s.history == Subscription.History.DUE) return;
    if (b.cycle() > s.cycle) {   // a demo run started over: steps count from 1 again
      s.restart(b.cycle());
      if (s.history == Subscription.History.LOADING) {
        s.historyDue();   // that history is the old cycle's
        return;
      }
    }
    int from = s.firstNew(b);
    if (from < 0) return;
    if (s.mode == Subscription.Mode.LIVE) {
      s.accumulate(f, from);
      return;
    }
    if (s.history == Subscription.History.LOADING) {
      s.hold(f);
      return;
    }
    long now = System.currentTimeMillis();
    if (s.gapFrom > 0 || s.summary != null) flush(s, null, now, false);   // what waits goes first
    int sent = 0;   // steps messages of this batch written
    String[] messages = null;
    if (s.gapFrom == 0 && s.summary == null && out.room()) {
      messages = from == 0 ? f.messages() : Fanout.messages(b, from);
      while (sent < messages.length && out.send(messages[sent])) sent++;
    }
    if (messages == null || sent < messages.length) {   // the rest is a gap, for REST to fill
      if (s.gapFrom == 0) s.gapFrom = b.step()[from + sent * Fanout.MAX_STEPS_PER_MESSAGE];
      s.gapTo = b.lastStep();
      dropped.increment();
    }
    s.sentThrough = b.lastStep();
  }

  void onRun(RunSummary summary, String text) {
    Subscription s = subs.get(summary.id());
    if (s == null) {
      if (wildcard != null && summary.state() == RunState.CREATED) {
        runs.get(summary.id()).ifPresent(r -> add(r, wildcard, wildcardHz));
      }
      return;
    }
    boolean deleted = summary.state() == RunState.DELETED;
    if (deleted && !s.announced) {   // the client never heard of it
      subs.remove(summary.id());
      return;
    }
    long now = System.currentTimeMillis();
    if (summary.cycle() > s.cycle) {   // a demo starting over: the old cycle's bucket or gap first, if they fit
      if (s.history == Subscription.History.SENT) flush(s, null, now, true);
      s.restart(summary.cycle());
      if (s.history == Subscription.History.LOADING) s.historyDue();
    }
    if (s.summary != null) dropped.increment();   // conflated: the client gets the newer one
    if (deleted) s.history = Subscription.History.SENT;   // nothing more to read
    s.summary(summary, text);
    flush(s, null, now, true);
    if (s.ended) subs.remove(s.run);
  }

  void onAlert(Alert alert, String text) {
    if (subs.containsKey(alert.run())) notice(text);
  }

  /** Called by the gateway every tick: the stall watch, then whatever is pending and due. */
  void tick(long now, Map<String, String> written) {
    if (out.watch(now)) return;
    while (!notices.isEmpty() && out.send(notices.peek())) notices.poll();
    for (Iterator<Subscription> it = subs.values().iterator(); it.hasNext(); ) {
      Subscription s = it.next();
      flush(s, written, now, false);
      if (s.ended) it.remove();
    }
  }

  /**
   * Sends what {@code s} has pending, in order, as far as the queue allows. A live bucket goes when due (the
   * wall clock entered a new interval: clients following a run at the same rate then hold the same buckets
   * and share their messages), or at once when {@code force}d or a state change waits behind it.
   */
  private void flush(Subscription s, Map<String, String> written, long now, boolean force) {
    if (s.history == Subscription.History.LOADING) return;
    if (s.history == Subscription.History.DUE) {
      if (s.summary == null || sendSummary(s)) startHistory(s);
      return;
    }
    if (s.summary != null && s.summaryFirst && !sendSummary(s)) return;
    if (s.gapFrom > 0) {
      if (!out.send(Wire.gap(s.run, s.gapFrom, s.gapTo))) return;
      s.gapFrom = 0;
      s.gapTo = 0;
    }
    if (s.pending() && (force || s.summary != null || now / s.intervalMs != s.lastSent / s.intervalMs)
        && !s.flushLive(out, written, now)) {
      dropped.increment();   // due, but the queue is full: it keeps conflating
      return;
    }
    if (s.summary != null) {   // nothing of the steps waits before it now; what comes later goes after it
      s.summaryFirst = true;
      sendSummary(s);
    }
  }

  private boolean sendSummary(Subscription s) {
    if (!out.send(s.summaryText != null ? s.summaryText : Wire.runMessage(s.summary))) return false;
    s.announced = true;
    s.ended = s.summary.state() == RunState.DELETED;
    s.summary = null;
    s.summaryText = null;
    return true;
  }

  /** Reads the history (once per run and last step, for every client: {@link HistoryCache}) when there is room. */
  private void startHistory(Subscription s) {
    if (loading >= MAX_LOADING || !out.room()) return;
    Run run = runs.get(s.run).orElse(null);
    if (run == null) return;   // being deleted: its deletion settles this subscription
    RunHistory h = run.history();
    int cycle = h.cycle();
    long last = h.lastStep();
    s.loading(cycle, last);
    Future<HistoryCache.Overview> f = histories.get(s.run, h, cycle, last);
    if (f.isComplete()) {
      historyRead(s, f);
      return;
    }
    loading++;
    f.onComplete(ar -> {
      loading--;
      historyRead(s, ar);
      if (s.ended && subs.get(s.run) == s) subs.remove(s.run);
    });
  }

  private void historyRead(Subscription s, AsyncResult<HistoryCache.Overview> ar) {
    if (subs.get(s.run) != s || s.history != Subscription.History.LOADING) return;   // gone or restarted meanwhile
    if (ar.failed()) {
      LOG.log(Level.WARNING, "cannot read the history of run " + s.run, ar.cause());
      notice(Wire.wsError("cannot read the history of run " + s.run));
    } else if (ar.result().cycle() != s.cycle || !(ar.result().message() == null || out.send(ar.result().message()))) {
      s.historyDue();   // no room after all (or a demo run started over): read again later
      return;
    }
    s.history = Subscription.History.SENT;
    ArrayDeque<Fanout> held = s.takeHeld();
    if (held != null) for (Fanout f : held) onBatch(f);
    flush(s, null, System.currentTimeMillis(), false);
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
    subs.clear();
    notices.clear();
  }
}
