package io.losswatch.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.losswatch.core.Description;
import io.losswatch.core.config.Json;
import io.losswatch.event.Alert;
import io.losswatch.event.Bucket;
import io.losswatch.event.ClusterSummary;
import io.losswatch.event.Events;
import io.losswatch.event.Follow;
import io.losswatch.event.HistoryRead;
import io.losswatch.event.RunEvent;
import io.losswatch.event.RunList;
import io.losswatch.event.RunRefusal;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.core.RunSpec;
import io.losswatch.run.Placement;
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
 * This node's part in the cluster. It tells every other node its own runs' summaries ({@link Summaries}) and keeps
 * theirs ({@link Mirrors}); it sends a run's steps only to the nodes whose clients follow it ({@link Followers}) and
 * asks for the other nodes' runs' steps only while its own clients follow them ({@link Following}); it answers for
 * its own runs by request/reply (their list, their history, deleting and resuming them), and marks a node's runs
 * lost when it leaves.
 */
public final class ClusterVerticle extends VerticleBase {
  /** How often held summaries are looked at (each goes at most once a second). */
  static final long TICK_MS = 100;
  private final RunManager manager;
  private final HazelcastClusterManager members;
  private final Placement.Node self;
  private String me;
  private DeliveryOptions fromMe;
  private Mirrors mirrors;
  private Summaries summaries;
  private Followers followers;
  private Following following;

  /** {@code self}: this node as a client reaches it (a run placed here is said to live there). */
  public ClusterVerticle(RunManager manager, HazelcastClusterManager members, Placement.Node self) {
    this.manager = manager;
    this.members = members;
    this.self = self;
  }

  @Override
  public Future<?> start() {
    me = members.getNodeId();
    fromMe = new DeliveryOptions().addHeader("node", me);
    EventBus bus = vertx.eventBus();
    following = new Following(vertx, context, me, manager.runs(), manager.files(),
        e -> mirrors.retell(e), (node, s) -> mirrors.summary(node, new ClusterSummary(s, null)));
    mirrors = new Mirrors(bus, manager.runs(), following::moved);
    summaries = new Summaries(vertx, manager.runs(), fromMe);
    followers = new Followers(vertx, fromMe);
    List<Future<?>> ready = new ArrayList<>();
    ready.add(bus.consumer(Events.node(me, "runs"), m -> m.reply(new RunList(summaries.list()))).completion());
    ready.add(bus.<HistoryRead>consumer(Events.node(me, "history"), m -> answer(m, m.body().run(), run -> vertx
        .executeBlocking(() -> run.history().read(m.body()), false))).completion());
    ready.add(bus.<Follow>consumer(Events.node(me, "follow"), m -> answer(m, m.body().run(), run -> {
      followers.follow(m.body());
      return Future.succeededFuture(run.summary());
    })).completion());
    // a run another node placed here (it was busier): created as if asked here, answered with where it lives
    ready.add(bus.<String>consumer(Events.node(me, "create"), m -> {
      Future<Run> created;
      try {
        created = manager.launch(RunSpec.parse(m.body()), false);
      } catch (RuntimeException e) {   // the asking node checked the spec: a refusal here still answers
        created = Future.failedFuture(e);
      }
      created.onSuccess(run -> m.reply(run.summary(), new DeliveryOptions().addHeader("name", self.name())
          .addHeader("url", self.url()))).onFailure(e -> {
        RunRefusal r = RunRefusal.of(e);
        if (r != null) r.fail(m);
        else m.fail(-1, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
      });
    }).completion());
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
    ready.add(bus.<RunEvent>consumer(Events.node(me, "steps"), m -> m.body().tell(new RunEvent.Listener() {
      @Override public void batch(StepBatch b) {
        following.sent(m.headers().get("node"), b);
      }

      @Override public void bucket(Bucket b) {
        following.sent(m.headers().get("node"), b, b.run());
      }

      @Override public void alert(Alert a) {
        following.sent(m.headers().get("node"), a, a.run());
      }
    })).completion());
    ready.add(bus.<ClusterSummary>consumer(Events.CLUSTER, m -> {
      String from = m.headers().get("node");
      if (from != null && !from.equals(me)) mirrors.summary(from, m.body());
    }).completion());
    // this node's runs: their summaries to every node, their steps and alerts to the nodes that follow them
    ready.add(Events.listen(bus, Events.RUNS, new RunEvent.Listener() {
      @Override public void batch(StepBatch b) {
        followers.batch(b);
        summaries.stepped(b.run());
      }

      @Override public void summary(RunSummary s) {
        if (s.state() == RunState.DELETED) followers.gone(s.id());
        summaries.summary(s, System.currentTimeMillis());
      }

      @Override public void alert(Alert a) {
        followers.alert(a);
      }
    }).completion());
    vertx.setPeriodic(TICK_MS, id -> {
      long now = System.currentTimeMillis();
      summaries.tick(now);
      following.tick(now);
    });
    members.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
      @Override public void memberAdded(MembershipEvent e) {
        // a node that joins asks for the runs and announces its own
      }

      @Override public void memberRemoved(MembershipEvent e) {
        String node = e.getMember().getAttribute("__vertx.nodeId");   // Vert.x's id for it, not Hazelcast's uuid
        if (node == null) return;
        context.runOnContext(v -> {
          mirrors.left(node);
          followers.left(node);
          following.left(node);
        });
      }
    });
    manager.steps().peers(following);
    manager.placement(new Placer(vertx, me, self, manager.runs(), members::getNodes));
    return Future.all(ready).compose(v -> discover()).onSuccess(v -> summaries.all(System.currentTimeMillis()));
  }

  /** A node's HTTP address from its cluster host (the address the others reach it at) and its HTTP port. */
  public static String url(String host, int port) {
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** Learns the runs of every node already in the cluster (one that does not answer yet announces them itself). */
  private Future<?> discover() {
    List<Future<?>> asked = new ArrayList<>();
    for (String node : members.getNodes()) {
      if (node.equals(me)) continue;
      asked.add(vertx.eventBus().<RunList>request(Events.node(node, "runs"), "")
          .onSuccess(m -> {
            for (ClusterSummary s : m.body().runs()) mirrors.summary(node, s);
          })
          .recover(e -> Future.succeededFuture()));
    }
    return Future.all(asked);
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
