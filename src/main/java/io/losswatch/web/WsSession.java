package io.losswatch.web;

import io.losswatch.core.config.Json;
import io.losswatch.core.config.Options;
import io.losswatch.core.config.SpecException;
import io.losswatch.event.Alert;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.train.Run;
import io.losswatch.store.RunHistory;
import io.losswatch.train.RunRegistry;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One WebSocket client: its subscriptions and its outbound flow. Lives on the gateway's event loop only.
 *
 * <p>Flow control never touches a run: the socket's queue is bounded ({@link #QUEUE_BYTES}); when it is full,
 * live subscriptions keep conflating into their pending bucket, and all-mode subscriptions skip batches and
 * later send one {@code gap} for the skipped range. A client whose queue stays full for {@link #STALL_MS} is
 * closed.
 */
final class WsSession {
  private static final Logger LOG = Logger.getLogger(WsSession.class.getName());
  static final int QUEUE_BYTES = 64 * 1024;
  static final long STALL_MS = 10_000;
  static final int HISTORY_POINTS = 2000;
  /** Accepted up to this; the gateway ticks every 10 ms, so live mode sends at most 100 messages a second a run. */
  static final double MAX_HZ = 1000;
  /** Inbound limits: a message this long closes the connection (1009); more than this many a minute are refused. */
  static final int MAX_MESSAGE_BYTES = 4096;
  static final int MAX_MESSAGES_PER_MINUTE = 100;
  private final long[] recent = new long[MAX_MESSAGES_PER_MINUTE];   // arrival times, a ring
  private int received;

  private final Vertx vertx;
  private final ServerWebSocket ws;
  private final RunRegistry runs;
  private final Counter dropped;
  private final Map<String, Subscription> subs = new LinkedHashMap<>();
  private Subscription.Mode wildcard;   // non-null: runs created later are subscribed too
  private double wildcardHz;
  private long fullSince;

  WsSession(Vertx vertx, ServerWebSocket ws, RunRegistry runs, Counter dropped) {
    this.vertx = vertx;
    this.ws = ws;
    this.runs = runs;
    this.dropped = dropped;
    ws.setWriteQueueMaxSize(QUEUE_BYTES);
    ws.drainHandler(v -> flush(System.currentTimeMillis(), true, new java.util.HashMap<>()));
  }

  void onText(String text) {
    if (text.length() > MAX_MESSAGE_BYTES || text.getBytes(StandardCharsets.UTF_8).length > MAX_MESSAGE_BYTES) {
      ws.close((short) 1009, "message over " + MAX_MESSAGE_BYTES + " bytes");
      return;
    }
    long now = System.nanoTime();
    int slot = received % MAX_MESSAGES_PER_MINUTE;
    if (received >= MAX_MESSAGES_PER_MINUTE && now - recent[slot] < 60_000_000_000L) {
      send(Wire.wsError("too many messages: at most " + MAX_MESSAGES_PER_MINUTE + " a minute; this one was ignored"));
      return;
    }
    recent[slot] = now;
    received++;
    try {
      Options o = Options.of("", Json.parse(text));
      String op = o.choice("op", null, "subscribe", "unsubscribe");
      List<String> ids = o.strings("runs");
      if (ids == null) throw o.fail("runs", "is required: [\"*\"] or a list of run ids");
      if (op.equals("subscribe")) {
        Subscription.Mode mode = o.choice("mode", "live", "live", "all").equals("all")
            ? Subscription.Mode.ALL : Subscription.Mode.LIVE;
        double hz = o.number("max_hz", 20, v -> v > 0 && v <= MAX_HZ, "must be in (0, " + (int) MAX_HZ + "]");
        o.done("a subscribe message");
        subscribe(ids, mode, hz);
      } else {
        o.done("an unsubscribe message");
        unsubscribe(ids);
      }
    } catch (SpecException e) {
      send(Wire.wsError(e.getMessage()));
    } catch (RuntimeException e) {   // a bug, not the client's fault: say so without the details, keep serving
      LOG.log(Level.WARNING, "WebSocket message not handled: " + text, e);
      send(Wire.wsError("internal error: this message could not be handled"));
    }
  }

  private void subscribe(List<String> ids, Subscription.Mode mode, double hz) {
    for (String id : ids) {
      if (id.equals("*")) {
        wildcard = mode;
        wildcardHz = hz;
        for (Run r : runs.all()) add(r, mode, hz);
      } else {
        Run r = runs.get(id).orElse(null);
        if (r == null) send(Wire.wsError("runs: no run with id " + Json.write(id)));
        else add(r, mode, hz);
      }
    }
  }

  /** Subscribes to one run: its summary, its history so far, then live batches after that history. */
  private void add(Run run, Subscription.Mode mode, double hz) {
    Subscription existing = subs.get(run.id());
    if (existing != null) {
      existing.configure(mode, hz);
      return;
    }
    Subscription s = new Subscription(run.id(), mode, hz);
    s.cycle = run.cycle();
    subs.put(run.id(), s);
    send(Wire.runMessage(run.summary()));
    RunHistory h = run.history();
    if (h.inMemory(1)) {
      sendHistory(s, h.read(1, Long.MAX_VALUE, HISTORY_POINTS));
      return;
    }
    s.backlog = new ArrayDeque<>();
    vertx.executeBlocking(() -> h.read(1, Long.MAX_VALUE, HISTORY_POINTS), false).onComplete(ar -> {
      if (subs.get(run.id()) != s) return;   // unsubscribed meanwhile
      if (ar.succeeded()) sendHistory(s, ar.result());
      else send(Wire.wsError("cannot read the history of run " + run.id()));
      ArrayDeque<Object> held = s.backlog;
      s.backlog = null;
      for (Object o : held) {
        if (o instanceof StepBatch b) onBatch(new Fanout(b));
        else if (o instanceof RunSummary r) onRun(r);
        else send((String) o);   // an alert, already written
      }
    });
  }

  private void sendHistory(Subscription s, StepBatch history) {
    s.cycle = history.cycle();
    if (history.size() == 0) return;
    send(Wire.steps(history, 0, history.size(), true));   // one message: at most 2,000 points, about 200 kB
    s.sentThrough = history.lastStep();
  }

  private void unsubscribe(List<String> ids) {
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
      if (wildcard == null) return;
      Run run = runs.get(b.run()).orElse(null);
      if (run == null) return;
      add(run, wildcard, wildcardHz);
      s = subs.get(b.run());
    }
    if (s.backlog != null) {
      s.backlog.add(b);
      return;
    }
    if (b.cycle() < s.cycle) return;             // a cycle this client has left behind
    if (b.cycle() > s.cycle) s.restart(b.cycle());   // a demo run started over: steps count from 1 again
    int from = s.firstNew(b);
    if (from < 0) return;
    if (s.mode == Subscription.Mode.LIVE) {
      s.accumulate(f, from);
      return;
    }
    if (s.gapFrom > 0 || full()) {
      if (s.gapFrom == 0) s.gapFrom = b.step()[from];
      s.gapTo = b.lastStep();
      dropped.increment();
      flushGap(s);
    } else {
      for (String m : from == 0 ? f.messages() : Fanout.messages(b, from)) send(m);
    }
    s.sentThrough = b.lastStep();
  }

  void onRun(RunSummary summary) {
    Subscription s = subs.get(summary.id());
    if (s == null && wildcard != null && summary.state() == RunState.CREATED) {
      runs.get(summary.id()).ifPresent(r -> add(r, wildcard, wildcardHz));
      return;
    }
    if (s == null) return;
    if (s.backlog != null) {
      s.backlog.add(summary);
      return;
    }
    // whatever is pending (a bucket, a gap) belongs before the state change, full queue or not
    s.flushLive(this, new java.util.HashMap<>(), System.currentTimeMillis());
    if (s.gapFrom > 0) sendGap(s);
    if (summary.state() == RunState.DELETED) subs.remove(summary.id());
    if (summary.cycle() > s.cycle) s.restart(summary.cycle());   // a demo starting over
    send(Wire.runMessage(summary));
  }

  void onAlert(Alert alert, String text) {
    Subscription s = subs.get(alert.run());
    if (s == null) return;
    if (s.backlog != null) s.backlog.add(text);
    else send(text);
  }

  /** Called by the gateway every tick: the stall watch, then the live buckets that are due. */
  void tick(long now, Map<String, String> written) {
    if (full()) {
      if (fullSince == 0) fullSince = now;
      else if (now - fullSince >= STALL_MS) {
        ws.close((short) 1008, "no progress for 10 s");
        return;
      }
    } else {
      fullSince = 0;
    }
    flush(now, false, written);
  }

  private void flush(long now, boolean drained, Map<String, String> written) {
    for (Subscription s : subs.values()) {
      if (full()) {
        if (s.mode == Subscription.Mode.LIVE && s.pending() && !drained) dropped.increment();
        continue;
      }
      if (s.mode == Subscription.Mode.ALL) flushGap(s);
      // due when the wall clock enters a new interval: every client flushes on the same tick, so clients
      // following the same run at the same rate hold the same buckets and share their messages
      else if (now / s.intervalMs != s.lastSent / s.intervalMs) s.flushLive(this, written, now);
    }
  }

  private void flushGap(Subscription s) {
    if (s.gapFrom > 0 && !full()) sendGap(s);
  }

  private void sendGap(Subscription s) {
    send(Wire.gap(s.run, s.gapFrom, s.gapTo));
    s.gapFrom = 0;
    s.gapTo = 0;
  }

  boolean full() {
    return !ws.isClosed() && ws.writeQueueFull();
  }

  void send(String text) {
    if (!ws.isClosed()) ws.writeTextMessage(text);
  }

  void close() {
    subs.clear();
  }

}
