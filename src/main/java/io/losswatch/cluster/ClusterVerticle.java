package io.losswatch.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.losswatch.core.Description;
import io.losswatch.core.config.Json;
import io.losswatch.event.Alert;
import io.losswatch.event.Events;
import io.losswatch.event.HistoryRead;
import io.losswatch.event.RunEvent;
import io.losswatch.event.RunList;
import io.losswatch.event.RunRefusal;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.run.Run;
import io.losswatch.run.RunManager;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * This node's part in the cluster. It tells the other nodes about its own runs (their summaries, batches and
 * alerts, on {@link Events#CLUSTER}), mirrors theirs ({@link Mirrors}), answers for its own runs by request/reply
 * (their list, their history, deleting and resuming them), and marks a node's runs lost when it leaves.
 */
public final class ClusterVerticle extends VerticleBase {
  private final RunManager manager;
  private final HazelcastClusterManager members;
  private String me;
  private DeliveryOptions fromMe;
  private Mirrors mirrors;

  public ClusterVerticle(RunManager manager, HazelcastClusterManager members) {
    this.manager = manager;
    this.members = members;
  }

  @Override
  public Future<?> start() {
    me = members.getNodeId();
    fromMe = new DeliveryOptions().addHeader("node", me);
    EventBus bus = vertx.eventBus();
    mirrors = new Mirrors(vertx, manager.runs());
    List<Future<?>> ready = new ArrayList<>();
    ready.add(bus.consumer(Events.node(me, "runs"), m -> m.reply(new RunList(summaries()))).completion());
    ready.add(bus.<HistoryRead>consumer(Events.node(me, "history"), m -> answer(m, m.body().run(), run -> vertx
        .executeBlocking(() -> run.history().head(m.body().from(), m.body().count()), false))).completion());
    ready.add(bus.<String>consumer(Events.node(me, "delete"),
        m -> answer(m, m.body(), run -> manager.delete(run).map("deleted"))).completion());
    ready.add(bus.<String>consumer(Events.node(me, "resume"), m -> answer(m, m.body(), manager::resume)).completion());
    ready.add(bus.<String>consumer(Events.node(me, "describe"), m -> {   // {"run": id, "change": {"tags", "notes"}}
      Map<?, ?> body = (Map<?, ?>) Json.parse(m.body());
      answer(m, (String) body.get("run"), run -> {
        try {   // the asking node checked the change; a refusal here still answers, never leaves it waiting
          return manager.describe(run, Description.patch(body.get("change"), run.spec().description()));
        } catch (RuntimeException e) {
          return Future.failedFuture(e);
        }
      });
    }).completion());
    ready.add(bus.<RunEvent>consumer(Events.CLUSTER, m -> {
      String from = m.headers().get("node");
      if (from != null && !from.equals(me)) mirrors.told(from, m.body());
    }).completion());
    // what other nodes mirror: batches, summaries and alerts (checkpoints and rewinds stay with the store here)
    ready.add(Events.listen(bus, Events.RUNS, new RunEvent.Listener() {
      @Override public void batch(StepBatch b) {
        bus.publish(Events.CLUSTER, b, fromMe);
      }

      @Override public void summary(RunSummary s) {
        bus.publish(Events.CLUSTER, s, fromMe);
      }

      @Override public void alert(Alert a) {
        bus.publish(Events.CLUSTER, a, fromMe);
      }
    }).completion());
    members.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
      @Override public void memberAdded(MembershipEvent e) {
        // a node that joins asks for the runs and announces its own
      }

      @Override public void memberRemoved(MembershipEvent e) {
        String node = e.getMember().getAttribute("__vertx.nodeId");   // Vert.x's id for it, not Hazelcast's uuid
        if (node != null) context.runOnContext(v -> mirrors.left(node));
      }
    });
    return Future.all(ready).compose(v -> discover()).onSuccess(v -> {
      for (RunSummary s : summaries()) bus.publish(Events.CLUSTER, s, fromMe);   // to the nodes already up
    });
  }

  /** Mirrors the runs of every node already in the cluster (one that does not answer yet announces them itself). */
  private Future<?> discover() {
    List<Future<?>> asked = new ArrayList<>();
    for (String node : members.getNodes()) {
      if (node.equals(me)) continue;
      asked.add(vertx.eventBus().<RunList>request(Events.node(node, "runs"), "")
          .onSuccess(m -> {
            for (RunSummary s : m.body().runs()) mirrors.summary(node, s);
          })
          .recover(e -> Future.succeededFuture()));
    }
    return Future.all(asked);
  }

  private List<RunSummary> summaries() {
    return manager.runs().local().stream().map(Run::summary).toList();
  }

  /** Answers a request about run {@code id} with what {@code action} makes of it: 404 when it is not this node's. */
  private <T> void answer(Message<?> m, String id, Function<Run, Future<T>> action) {
    Optional<Run> run = manager.runs().get(id).filter(Run::local);
    if (run.isEmpty()) {
      RunRefusal.of(RunRefusal.Kind.NOT_FOUND, "run " + id + " is not on this node").fail(m);
      return;
    }
    action.apply(run.get()).onSuccess(m::reply).onFailure(e -> {
      RunRefusal r = RunRefusal.of(e);
      if (r != null) r.fail(m);
      else m.fail(-1, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());   // a fault, not an answer
    });
  }
}
