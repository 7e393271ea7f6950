package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.Patience;
import io.losswatch.core.config.Json;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code "format":"binary"}: a real WebSocket client reads the binary messages as docs/websocket.md lays them out
 * ({@link BinaryMessage}) and gets what a JSON subscriber gets: every step once, in order, the same values to the
 * bit, state changes after the steps before them; live mode its overview, then frames.
 */
class BinaryStreamIT extends SharedServer {
  private static final String FAST = "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},"
      + "\"steps\":%d%s}";

  /** A WebSocket client of {@code server} keeping text messages parsed and binary ones read, in the order they came. */
  static final class Client implements AutoCloseable {
    final WebSocket ws;
    final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();

    Client(TestServer server) throws Exception {
      ws = TestServer.await(server.wsClient.webSocket()
          .textMessageHandler(inbox::add)
          .binaryMessageHandler(b -> inbox.add(b.getBytes()))
          .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.port()).setURI("/ws")));
    }

    void send(String json) throws Exception {
      TestServer.await(ws.writeTextMessage(json));
    }

    /** The next message: a JSON one as a map, a binary one read. */
    @SuppressWarnings("unchecked")
    Object next(long seconds) throws InterruptedException {
      Object o = inbox.poll(Patience.seconds(seconds), TimeUnit.SECONDS);
      assertTrue(o != null, "timed out waiting for a message");
      return o instanceof String s ? (Map<String, Object>) Json.parse(s) : BinaryMessage.read((byte[]) o);
    }

    @Override public void close() throws Exception {
      if (!ws.isClosed()) TestServer.await(ws.close());
    }
  }

  private static boolean isState(Object m, String run, String state) {
    return m instanceof Map<?, ?> x && "run".equals(x.get("type")) && x.get("run") instanceof Map<?, ?> r
        && run.equals(r.get("id")) && state.equals(r.get("state"));
  }

  /** Columns gathered from many messages. */
  private static final class Columns {
    final List<Long> step = new ArrayList<>();
    final List<Double> loss = new ArrayList<>();
    final List<Double> lr = new ArrayList<>();
    final List<Double> grad = new ArrayList<>();
    final List<Long> t = new ArrayList<>();

    void add(BinaryMessage.Block b) {
      for (int i = 0; i < b.step().length; i++) {
        step.add(b.step()[i]);
        loss.add(b.loss()[i]);
        lr.add(b.lr()[i]);
        grad.add(b.gradNorm()[i]);
        t.add(b.t()[i]);
      }
    }

    void add(Map<?, ?> m) {
      for (double s : nums(m.get("step"))) step.add((long) s);
      loss.addAll(nums(m.get("loss")));
      lr.addAll(nums(m.get("lr")));
      grad.addAll(nums(m.get("grad_norm")));
      for (double s : nums(m.get("t"))) t.add((long) s);
    }
  }

  /** Reads a run's steps until its {@code state}, in either format, checking each is the next: returns them. */
  private static Columns expectEvery(Client c, String run, String state) throws Exception {
    Columns got = new Columns();
    while (true) {
      Object m = c.next(60);
      if (isState(m, run, state)) {
        long step = (long) TestServer.num(((Map<?, ?>) ((Map<?, ?>) m).get("run")).get("step"));
        assertEquals(step, got.step.size(), "the run's " + state + " comes right after its last step");
        return got;
      }
      if (m instanceof BinaryMessage b) {
        assertEquals(1, b.version());
        assertEquals(BinaryWire.STEPS, b.type(), "all mode sends steps messages");
        assertEquals(1, b.blocks().size());
        BinaryMessage.Block k = b.blocks().get(0);
        assertEquals(run, k.run());
        assertFalse(k.stepColumn(), "a built-in run's steps are consecutive: no step column");
        assertEquals(got.step.size() + 1, k.firstStep(), "every step once, in order");
        got.add(k);
      } else if (m instanceof Map<?, ?> x && "steps".equals(x.get("type")) && run.equals(x.get("run"))) {
        assertEquals(got.step.size() + 1, nums(x.get("step")).get(0).longValue(), "every step once, in order");
        got.add(x);
      }
    }
  }

  @Test
  void allModeBinaryGetsEveryStepOnceWithTheValuesJsonCarriesToTheBit() throws Exception {
    try (Client binary = new Client(server); Client json = new Client(server)) {
      binary.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\",\"format\":\"binary\"}");
      json.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}");
      binary.send("{\"op\":\"barrier\"}");   // answered once the subscribe before it is in place
      json.send("{\"op\":\"barrier\"}");
      for (Client c : List.of(binary, json)) assertEquals("error", ((Map<?, ?>) c.next(10)).get("type"));
      String run = server.create(FAST.formatted(300_000, ""));
      Columns b = expectEvery(binary, run, "finished");
      Columns j = expectEvery(json, run, "finished");
      assertEquals(300_000, b.step.size());
      assertEquals(j.step, b.step);
      assertEquals(j.loss, b.loss);   // Double.equals: the same bits (JSON's shortest text reads back exactly)
      assertEquals(j.lr, b.lr);
      assertEquals(j.grad, b.grad);
      assertEquals(j.t, b.t);
    }
  }

  @Test
  void aScriptsGapsNonFiniteValuesAndMetricsComeAsTheHistoryHoldsThem() throws Exception {
    String id = server.create("{\"source\":\"external\",\"name\":\"binary\"}");
    assertEquals(200, server.post("/api/runs/" + id + "/steps", "{\"step\":[1,2,5,10],\"loss\":[2.5,null,\"NaN\","
        + "\"Infinity\"],\"lr\":[0.001,0.001,0.001,\"Infinity\"],\"grad_norm\":[3,2,1,\"-Infinity\"],"
        + "\"metrics\":{\"val/acc\":[0.1,\"NaN\",0.3,0.4],\"tokens\":[1,2,3,4]}}").status());
    try (Client c = new Client(server)) {   // joins late: reads the history
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + id + "\"],\"mode\":\"all\",\"format\":\"binary\"}");
      assertTrue(isState(c.next(10), id, "running"), "the run's summary comes first, as JSON");
      BinaryMessage m = (BinaryMessage) c.next(10);
      BinaryMessage.Block k = m.blocks().get(0);
      assertTrue(k.stepColumn(), "steps with gaps carry their step column");
      assertArrayEquals(new long[] {1, 2, 5, 10}, k.step());
      Map<String, Object> h = server.get("/api/runs/" + id + "/steps").json();
      assertEquals(nums(h.get("loss")), box(k.loss()));
      assertEquals(nums(h.get("lr")), box(k.lr()));
      assertEquals(nums(h.get("grad_norm")), box(k.gradNorm()));
      assertEquals(List.of("val/acc", "tokens"), List.copyOf(k.metrics().keySet()));
      Map<?, ?> metrics = (Map<?, ?>) h.get("metrics");
      assertEquals(nums(metrics.get("val/acc")), box(k.metrics().get("val/acc")));
      assertEquals(nums(metrics.get("tokens")), box(k.metrics().get("tokens")));
      // and what comes live, after the history
      assertEquals(200, server.post("/api/runs/" + id + "/steps", "{\"step\":[11,12,13],\"loss\":[1,0.5,0.25]}").status());
      BinaryMessage live = (BinaryMessage) c.next(10);
      assertFalse(live.blocks().get(0).stepColumn(), "consecutive steps: no step column");
      assertArrayEquals(new long[] {11, 12, 13}, live.blocks().get(0).step());
      assertTrue(live.blocks().get(0).metrics().isEmpty(), "steps sent without metrics carry none, as in JSON");
    }
  }

  @Test
  void liveModeBinaryGetsTheOverviewThenFramesWithTheServersClock() throws Exception {
    String a = server.create(FAST.formatted(10_000_000, ",\"steps_per_second\":2000"));
    String b = server.create(FAST.formatted(10_000_000, ",\"steps_per_second\":1000"));
    for (String run : List.of(a, b)) {
      MetricsIT.waitUntil(() -> TestServer.num(server.get("/api/runs/" + run).json().get("step")) >= 100);
    }
    try (Client c = new Client(server)) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + a + "\",\"" + b + "\"],\"format\":\"binary\",\"max_hz\":20}");
      List<String> overviews = new ArrayList<>();
      int frames = 0;
      long lastT = 0;
      while (frames < 10) {
        Object m = c.next(10);
        if (!(m instanceof BinaryMessage x)) continue;   // summaries
        if (x.type() == BinaryWire.STEPS) {
          assertTrue((x.flags() & BinaryWire.OVERVIEW) != 0, "marked as an overview");
          BinaryMessage.Block k = x.blocks().get(0);
          assertTrue(k.step().length <= HistoryCache.POINTS && k.step()[0] == 1, "the history from step 1");
          overviews.add(k.run());
          continue;
        }
        assertEquals(BinaryWire.FRAME, x.type());
        assertTrue(x.t() >= lastT && x.t() > 1_600_000_000_000L, "a frame carries the server's clock: " + x.t());
        lastT = x.t();
        for (BinaryMessage.Block k : x.blocks()) {
          assertTrue(overviews.contains(k.run()), "a run's frames come after its overview");
          assertTrue(k.step().length >= 1 && k.step().length <= 3, "a bucket: its min, max and last points");
          assertTrue(k.t()[k.t().length - 1] <= x.t() + 5, "steps taken before the frame went");
        }
        frames++;
      }
      overviews.sort(null);
      assertEquals(Arrays.asList(new String[] {a, b}).stream().sorted().toList(), overviews);
    }
  }

  @Test
  void anUnknownFormatIsRefusedNamingTheField() throws Exception {
    try (Client c = new Client(server)) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"format\":\"msgpack\"}");
      Map<?, ?> e = (Map<?, ?>) c.next(10);
      assertEquals("error", e.get("type"));
      assertTrue(String.valueOf(e.get("message")).startsWith("format:"), e.toString());
    }
  }

  private static List<Double> box(double[] v) {
    return Arrays.stream(v).boxed().toList();
  }
}
