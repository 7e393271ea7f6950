package io.losswatch.web;

import io.losswatch.event.Alert;
import io.losswatch.event.Bucket;
import io.losswatch.event.Events;
import io.losswatch.event.RunEvent;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.run.RunRegistry;
import io.losswatch.run.Steps;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.ServerWebSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The WebSocket stream at {@code /ws}: fans every run's batches and state changes out to the sessions
 * subscribed to them. All sessions and both consumers live on the HTTP verticle's event loop, so nothing
 * here needs a lock.
 */
final class StreamGateway {
  static final String PATH = "/ws";
  private final Vertx vertx;
  private final RunRegistry runs;
  private final Steps steps;
  private final WebConfig meters;
  private final HistoryCache histories;
  private final SummaryTexts texts = new SummaryTexts();
  private final Map<ServerWebSocket, WsSession> sessions = new LinkedHashMap<>();
  /** How long a client whose reads need the token may take to send it. */
  static final long AUTH_MS = 10_000;
  private final Token token;

  StreamGateway(Vertx vertx, RunRegistry runs, Steps steps, WebConfig meters, Token token) {
    this.token = token;
    this.vertx = vertx;
    this.runs = runs;
    this.steps = steps;
    this.meters = meters;
    this.histories = new HistoryCache(steps);
  }

  /** Live buckets are flushed on this tick, shared by every session of this verticle. */
  static final long TICK_MS = 10;

  Future<?> start() {
    // a millisecond into each tick of the wall clock: frames are due on its boundaries (and paced runs step just before)
    vertx.setPeriodic(TICK_MS - System.currentTimeMillis() % TICK_MS + 1, TICK_MS, id -> {
      if (sessions.isEmpty()) return;
      long now = System.currentTimeMillis();
      Map<Object, Object> written = new HashMap<>();
      for (WsSession s : new ArrayList<>(sessions.values())) s.tick(now, written);
    });
    // this node's runs, and (in a cluster) the other nodes' as they come here: the same to a client
    RunEvent.Listener fanOut = new RunEvent.Listener() {
      @Override public void batch(StepBatch b) {
        if (sessions.isEmpty()) return;
        Fanout f = new Fanout(b);
        for (WsSession s : sessions.values()) s.onBatch(f);
      }

      @Override public void bucket(Bucket b) {   // another node's run, followed live here: for live clients only
        if (sessions.isEmpty()) return;
        Fanout f = new Fanout(b.points());
        for (WsSession s : sessions.values()) s.onBucket(f);
      }

      @Override public void summary(RunSummary summary) {
        if (summary.state() == RunState.DELETED) texts.forget(summary.id());
        if (sessions.isEmpty()) return;
        String text = Json.runMessage(summary);
        for (WsSession s : sessions.values()) s.onRun(summary, text);
      }

      @Override public void alert(Alert alert) {
        if (sessions.isEmpty()) return;
        String text = Json.alert(alert);
        for (WsSession s : sessions.values()) s.onAlert(alert, text);
      }
    };
    return Future.all(Events.listen(vertx.eventBus(), Events.RUNS, fanOut).completion(),
        Events.listen(vertx.eventBus(), Events.MIRRORED, fanOut).completion());
  }

  Future<Void> closeAll() {
    List<Future<Void>> closed = new ArrayList<>();
    for (WsSession s : new ArrayList<>(sessions.values())) closed.add(s.close((short) 1001, "server shutting down"));
    return Future.join(closed).mapEmpty();
  }

  /**
   * Takes a freshly accepted socket; handlers are set synchronously, before any frame can arrive. One that did not
   * show the token its reads need (its handshake's header was checked) has {@link #AUTH_MS} to send it.
   */
  void attach(ServerWebSocket ws) {
    if (ws.isClosed()) {   // gone between its 101 and here: its place, taken at the handshake, is free again
      meters.wsClients().decrementAndGet();
      return;
    }
    boolean shown = !token.guardsReads() || token.matches(Token.bearer(ws.headers().get(HttpHeaders.AUTHORIZATION)));
    WsSession session = new WsSession(vertx, ws, runs, steps, histories, texts, meters.wsDropped(), token, shown);
    long timer = shown ? -1 : vertx.setTimer(AUTH_MS, id -> {
      if (!session.authenticated()) session.close(WsRequests.UNAUTHORIZED, "no token within " + AUTH_MS / 1000 + " s");
    });
    sessions.put(ws, session);   // counted in wsClients since its handshake (HttpVerticle)
    ws.textMessageHandler(new WsRequests(session)::onText);
    ws.binaryMessageHandler(b -> session.notice(Json.wsError("binary messages are not supported; send JSON text")));
    ws.exceptionHandler(e -> ws.close());
    ws.closeHandler(v -> {
      if (timer >= 0) vertx.cancelTimer(timer);
      if (sessions.remove(ws) != null) meters.wsClients().decrementAndGet();
      session.closed();
    });
  }
}
