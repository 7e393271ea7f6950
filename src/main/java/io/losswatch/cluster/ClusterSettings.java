package io.losswatch.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.SocketInterceptorConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.impl.HazelcastInstanceFactory;
import io.losswatch.core.config.SpecException;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * How a node joins its cluster: Hazelcast on TCP-IP (no multicast), under a cluster name of its own, at a fixed
 * address the other members list, bound to that address only; each Hazelcast connection proves the cluster's
 * secret first ({@link SecretHandshake}), and the event bus between nodes is TLS 1.3 where both ends show the
 * certificate derived from it ({@link ClusterIdentity}). {@link #check()} refuses what would let two clusters
 * merge or a node wander into the wrong one.
 *
 * @param name the cluster's name: only members with the same name join (Hazelcast's default, "dev", is refused)
 * @param host the address this node binds and announces for Hazelcast and the event bus
 * @param port Hazelcast's port on {@code host}, fixed (no auto-increment into a neighbour's port)
 * @param members the other members' {@code host:port} (this node may be listed too)
 * @param node this node's name, stable across restarts: the runs it owns carry it on disk
 * @param secret what every node of the cluster holds and nothing else does
 */
public record ClusterSettings(String name, String host, int port, List<String> members, String node,
    ClusterSecret secret) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern MEMBER = Pattern.compile("[A-Za-z0-9.-]+:\\d{1,5}|\\[[0-9a-fA-F:.]+]:\\d{1,5}");
  /** Heartbeats every second; a member silent for 5 s is gone (a killed process's connection drops at once). */
  static final int HEARTBEAT_S = 1;
  static final int MAX_NO_HEARTBEAT_S = 5;
  /** The attribute by which Vert.x finds its node id on a Hazelcast member it did not start itself. */
  private static final String VERTX_NODE_ID = "__vertx.nodeId";
  /** The settings, or a {@link SpecException} naming the flag that would let clusters merge or cannot work. */
  public ClusterSettings check() {
    if (name == null) {
      throw new SpecException("--cluster-name", "is required with --cluster: nodes join the cluster of that name only,"
          + " so two clusters on one network never merge");
    }
    if (name.equals("dev")) {
      throw new SpecException("--cluster-name", "must not be dev, Hazelcast's default: any other cluster left at the"
          + " default would merge with it");
    }
    if (!NAME.matcher(name).matches()) {
      throw new SpecException("--cluster-name", "must be 1 to 64 letters, digits, '.', '_' or '-', got " + name);
    }
    if (host == null || host.isBlank() || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
      throw new SpecException("--cluster-host", "must be this node's own address, which the other members reach"
          + " (not a wildcard), got " + host);
    }
    if (port < 1 || port > 65535) {
      throw new SpecException("--cluster-port", "must be a fixed port in [1, 65535] that the other members list, got " + port);
    }
    for (String m : members) {
      if (!MEMBER.matcher(m).matches() || Integer.parseInt(m.substring(m.lastIndexOf(':') + 1)) > 65535) {
        throw new SpecException("--cluster-members", "must be host:port, comma-separated, got " + m);
      }
    }
    if (!NAME.matcher(node).matches()) {
      throw new SpecException("--node-name", "must be 1 to 64 letters, digits, '.', '_' or '-', got " + node);
    }
    if (secret == null) {
      throw new SpecException("--cluster-secret-file", "is required with --cluster (or LOSSWATCH_CLUSTER_SECRET):"
          + " a node proves it to the others before anything crosses, so nothing without it joins, reads or commands"
          + " (make one with: openssl rand -base64 32 > cluster.secret)");
    }
    return this;
  }

  /**
   * Starts this node's Hazelcast member and joins the others (blocking, seconds), and Vert.x's cluster manager over
   * it. The member is this node's to shut down once Vert.x is closed ({@code getHazelcastInstance().shutdown()}).
   */
  public HazelcastClusterManager join() {
    Config hz = hazelcast();
    hz.getMemberAttributeConfig().setAttribute(VERTX_NODE_ID, UUID.randomUUID().toString());
    SecretHandshake handshake = (SecretHandshake) hz.getNetworkConfig().getSocketInterceptorConfig().getImplementation();
    HazelcastInstance member = HazelcastInstanceFactory.newHazelcastInstance(hz, hz.getInstanceName(),
        new SecretHandshake.Context(handshake));
    return new HazelcastClusterManager(member);
  }

  /**
   * The event bus between nodes: on this node's address, TLS 1.3 only, this cluster's certificate shown and the
   * same certificate required of the other end (client authentication), nothing else trusted. Hostnames are not
   * verified (Vert.x's clustered event bus never does): every node shows the same certificate, whose key only the
   * secret gives.
   */
  public EventBusOptions eventBus(EventBusOptions options) {
    ClusterIdentity identity = new ClusterIdentity(secret, name);
    return options.setHost(host).setClusterPublicHost(host).setPort(0)
        .setSsl(true).setClientAuth(ClientAuth.REQUIRED)
        // Vert.x's event bus trusts every server by default: a node would talk to any listener that said it was one
        .setTrustAll(false).setKeyCertOptions(identity.keyStore()).setTrustOptions(identity.trustStore())
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.3"))
        .setSslEngineOptions(new JdkSSLEngineOptions());   // the JDK's TLS, which takes the Ed25519 key
  }

  /** Hazelcast's configuration: Vert.x's own maps and locks, then TCP-IP join on exactly these addresses. */
  public Config hazelcast() {
    Config hz = ConfigUtil.loadConfig();   // keeps the __vertx.* maps, multimap and semaphores Vert.x needs
    hz.setClusterName(name);
    hz.setInstanceName("losswatch-" + node + "-" + port);
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.shutdownhook.enabled", "false");   // the server leaves the cluster itself
    hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.heartbeat.interval.seconds", String.valueOf(HEARTBEAT_S));
    hz.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(MAX_NO_HEARTBEAT_S));
    hz.setProperty("hazelcast.logging.type", "jdk");
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(port).setPortAutoIncrement(false);
    net.setPublicAddress(host + ":" + port);
    // bind this address only, never every interface: a name is resolved here, once, as the event bus does
    InetAddress address = address();
    net.getInterfaces().setEnabled(true).addInterface(address.getHostAddress());
    hz.setProperty("hazelcast.socket.bind.any", "false");
    if (address instanceof Inet6Address) hz.setProperty("hazelcast.prefer.ipv4.stack", "false");
    net.setSocketInterceptorConfig(new SocketInterceptorConfig().setEnabled(true)
        .setImplementation(new SecretHandshake(secret.key("hazelcast join", name))));
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(members.isEmpty() ? List.of(host + ":" + port) : members);
    return hz;
  }

  /** The IP address {@code host} names (a literal is taken as it is), the one Hazelcast binds. */
  private InetAddress address() {
    try {
      return InetAddress.getByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
    } catch (UnknownHostException e) {
      throw new SpecException("--cluster-host", "names no address this machine can resolve: " + host);
    }
  }
}
