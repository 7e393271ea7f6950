package io.losswatch.event;

import static io.losswatch.event.WireCodecTest.assertFieldsEqual;
import static io.losswatch.event.WireCodecTest.batch;
import static io.losswatch.event.WireCodecTest.summary;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The wire codecs between two real clustered Vert.x nodes (Hazelcast on loopback): an integration test. */
class WireCodecClusterIT {
  /** Published from node A, one StepBatch and one RunSummary reach a consumer on node B intact. */
  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void crossesTwoClusteredNodes() throws Exception {
    String cluster = "t-" + UUID.randomUUID();
    List<Vertx> nodes = new ArrayList<>();
    try {
      Vertx a = await(node(cluster));
      nodes.add(a);
      Vertx b = await(node(cluster));
      nodes.add(b);
      Codecs.registerAll(a.eventBus());
      Codecs.registerAll(b.eventBus());

      List<Object> onB = new ArrayList<>();
      List<Object> onA = new ArrayList<>();
      CompletableFuture<Void> bothOnB = new CompletableFuture<>();
      CompletableFuture<Void> bothOnA = new CompletableFuture<>();
      MessageConsumer<Object> cb = b.eventBus().consumer("t.runs", m -> collect(onB, m.body(), bothOnB));
      MessageConsumer<Object> ca = a.eventBus().consumer("t.runs", m -> collect(onA, m.body(), bothOnA));
      await(Future.all(cb.completion(), ca.completion()));

      StepBatch steps = batch("r1", 2, 10_000, true);
      RunSummary summary = summary();
      a.eventBus().publish("t.runs", steps);
      a.eventBus().publish("t.runs", summary);
      bothOnB.get(30, TimeUnit.SECONDS);
      bothOnA.get(30, TimeUnit.SECONDS);

      assertFieldsEqual(steps, onB.get(0));
      assertFieldsEqual(summary, onB.get(1));
      assertSame(steps, onA.get(0));   // the sender's own node: by reference
      assertSame(summary, onA.get(1));
    } finally {
      for (Vertx v : nodes) v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static synchronized void collect(List<Object> into, Object body, CompletableFuture<Void> done) {
    into.add(body);
    if (into.size() == 2) done.complete(null);
  }

  private static Future<Vertx> node(String cluster) {
    return Vertx.builder()
        .with(new VertxOptions().setEventBusOptions(new EventBusOptions().setHost("127.0.0.1").setPort(0)))
        .withClusterManager(new HazelcastClusterManager(loopback(cluster)))
        .buildClustered();
  }

  private static Config loopback(String cluster) {
    Config hz = ConfigUtil.loadConfig();
    hz.setClusterName(cluster);
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.shutdownhook.enabled", "false");
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(5701).setPortAutoIncrement(true);
    net.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).addMember("127.0.0.1");
    return hz;
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

}
