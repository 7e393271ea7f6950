package io.losswatch.store;

import io.losswatch.run.RunFiles;
import io.losswatch.history.Columns;
import io.losswatch.history.RunHistory;
import io.losswatch.history.StepLog;
import io.losswatch.core.RunSpec;
import io.losswatch.core.config.Json;
import io.losswatch.core.config.SpecException;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.state.State;
import io.losswatch.event.LrChange;
import io.losswatch.event.Rewind;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The runs on disk, under {@code <data-dir>/runs/<id>/}: {@code run.json} (the spec and the latest summary)
 * and the {@link StepLog} columns. Owns every open log. All methods block: call them off the event loop.
 */
public final class RunStore implements RunFiles {
  private static final Logger LOG = Logger.getLogger(RunStore.class.getName());
  private final Path root;
  private final String node;
  private final Map<String, StepLog> logs = new ConcurrentHashMap<>();

  /** A data folder of one server's own. */
  public RunStore(Path dataDir) {
    this(dataDir, null);
  }

  /**
   * A data folder cluster nodes may share: each run's {@code run.json} names the node that owns it, and a node
   * loads its own runs only (and those of no node), unless it takes one over ({@link #adopt}).
   */
  public RunStore(Path dataDir, String node) {
    this.root = dataDir.resolve("runs");
    this.node = node;
  }

  /**
   * A new run's folder: its {@code run.json}, durable before the run takes a step, and an empty log. Fails
   * (a full disk, say) before anything of the run exists but a folder the next start skips.
   */
  @Override
  public StepLog create(RunSummary created) throws IOException {
    try {
      StepLog log = StepLog.open(root.resolve(created.id()));
      writeMeta(created);
      logs.put(created.id(), log);
      return log;
    } catch (IOException e) {
      try {
        delete(created.id());
      } catch (IOException again) {
        e.addSuppressed(again);
      }
      throw e;
    }
  }

  public StepLog log(String id) {
    return logs.get(id);
  }

  /**
   * Keeps a built-in run's exact state at a step, as {@code snapshot.bin}, replaced atomically (a new file
   * renamed over it) but not forced: a hundred runs checkpointing every 2 s would otherwise cost hundreds of
   * fsyncs a second. A kill loses nothing of it; a power cut may lose the newest one, or leave it ahead of the
   * log, and a resume then refuses it (409) rather than go on from a state the history does not lead to.
   */
  public void writeSnapshot(String id, State state) throws IOException {
    if (logs.get(id) == null) return;
    writeAtomically(root.resolve(id), "snapshot.bin", state.toBytes(), false);
  }

  /**
   * A guard's rewind: the steps after {@code to} move out of the run's log into {@code rewound.<index>/}, a log
   * of their own, so nothing computed is lost.
   */
  public void rewind(String id, int index, long to, StepBatch abandoned) throws IOException {
    StepLog log = logs.get(id);
    if (log == null) return;
    StepLog apart = StepLog.open(root.resolve(id).resolve("rewound." + index));
    apart.append(abandoned);
    apart.closeWriter();
    log.cutAfter(to);
  }

  /** The stretches a run's rewinds took out, in order (empty for a run never rewound). */
  public List<StepBatch> abandoned(String id) throws IOException {
    List<StepBatch> out = new ArrayList<>();
    for (int k = 1; Files.isDirectory(root.resolve(id).resolve("rewound." + k)); k++) {
      StepLog apart = StepLog.open(root.resolve(id).resolve("rewound." + k));
      out.add(new RunHistory(id, apart).read(1, Long.MAX_VALUE, 0));
    }
    return out;
  }

  /** A run's last snapshot, or null when it has none (or a torn one, which is said in the log). */
  @Override
  public State snapshot(String id) {
    Path p = root.resolve(id).resolve("snapshot.bin");
    if (!Files.exists(p)) return null;
    try {
      return State.fromBytes(Files.readAllBytes(p));
    } catch (IOException | IllegalArgumentException e) {
      LOG.warning("run " + id + ": cannot read its snapshot: " + e.getMessage());
      return null;
    }
  }

  /**
   * Records a run's latest summary, atomically and durably: the new file is forced, renamed over the old one
   * and the folder forced, so a kill or a power cut leaves the old file or the new one, never a torn one.
   */
  public void writeMeta(RunSummary s) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id());
    m.put("state", s.state().label());
    if (node != null) m.put("node", node);
    m.put("created", (double) s.created());
    m.put("updated", (double) s.updated());
    m.put("step", (double) s.step());
    if (!Double.isNaN(s.bestLoss())) m.put("best_loss", s.bestLoss());
    m.put("spec", s.spec().json());
    List<Object> changes = new ArrayList<>();
    for (LrChange c : s.lrChanges()) {
      changes.add(Map.of("step", (double) c.step(), "from", c.from(), "to", c.to(), "cause", c.cause()));
    }
    m.put("lr_changes", changes);
    if (s.parent() != null) {
      m.put("parent", s.parent());
      m.put("branched_at", (double) s.branchedAt());
    }
    List<Object> rewinds = new ArrayList<>();
    for (Rewind r : s.rewinds()) {
      rewinds.add(Map.of("at", (double) r.at(), "to", (double) r.to(), "lr_before", r.lrBefore(), "lr_after", r.lrAfter(),
          "why", r.why()));
    }
    m.put("rewinds", rewinds);
    RunSummary.Curvature c = s.curvature();
    if (c != null) {
      m.put("curvature", Map.of("step", (double) c.step(), "sharpness", c.sharpness(), "threshold", c.threshold(),
          "stability", c.stability(), "preconditioned", c.preconditioned()));
    }
    writeAtomically(root.resolve(s.id()), "run.json", Json.write(m).getBytes(StandardCharsets.UTF_8), true);
  }

  /** Writes {@code name} in {@code dir} through a temporary file renamed over it; durably: both forced. */
  private static void writeAtomically(Path dir, String name, byte[] bytes, boolean durably) throws IOException {
    Path tmp = dir.resolve(name + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) ch.write(b);
      if (durably) ch.force(true);
    } catch (IOException e) {
      Files.deleteIfExists(tmp);   // frees what it took of a full disk
      throw e;
    }
    Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    if (!durably) return;
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);   // the rename itself is durable once the folder is
    }
  }

  /** Closes a run's log and removes its files. */
  public void delete(String id) throws IOException {
    StepLog log = logs.remove(id);
    if (log != null) log.closeWriter();
    Path dir = root.resolve(id);
    if (!Files.exists(dir)) return;
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  /**
   * Every run on disk. Runs that were still going when the server stopped come back {@code interrupted};
   * a torn log is cut back to its last whole record; a run whose files cannot be read is skipped with a
   * warning. Never fails.
   */
  public List<Restored> loadAll() {
    List<Restored> out = new ArrayList<>();
    if (!Files.isDirectory(root)) return out;
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
        try {
          Restored r = load(dir, false);
          if (r != null) out.add(r);
        } catch (IOException | RuntimeException e) {
          LOG.log(Level.WARNING, "skipping unreadable run in " + dir + ": " + e.getMessage());
        }
      }
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot list " + root + ": " + e.getMessage());
    }
    return out;
  }

  /**
   * Takes over a run another node owned (it left the cluster): loads it as at start-up and records this node as
   * its owner, durably, before anything else may write it. Null when its folder is not in this data folder.
   */
  @Override
  public Restored adopt(String id) throws IOException {
    Path dir = root.resolve(id);
    if (!Files.isRegularFile(dir.resolve("run.json"))) return null;
    Restored r = load(dir, true);
    writeMeta(r.summary());
    return r;
  }

  @Override
  public RunHistory peek(String id) throws IOException {
    Path dir = root.resolve(id);
    if (!Files.isRegularFile(dir.resolve("run.json"))) return null;
    RunHistory h = new RunHistory(id, StepLog.view(dir));
    List<StepBatch> gone = new ArrayList<>();
    for (int k = 1; Files.isDirectory(dir.resolve("rewound." + k)); k++) {
      gone.add(new RunHistory(id, StepLog.view(dir.resolve("rewound." + k))).read(1, Long.MAX_VALUE, 0));
    }
    h.abandoned(gone);
    return h;
  }

  /** A run's folder read back (null: another node's run, unless {@code any}). */
  @SuppressWarnings("unchecked")
  private Restored load(Path dir, boolean any) throws IOException {
    Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(dir.resolve("run.json")));
    String id = (String) m.get("id");
    if (id == null || !dir.getFileName().toString().equals(id)) throw new SpecException("id", "does not match its folder");
    Object owner = m.get("node");
    if (!any && owner != null && !owner.equals(node)) return null;
    RunSpec spec = RunSpec.from(m.get("spec"));
    RunState state = RunState.valueOf(((String) m.get("state")).toUpperCase(Locale.ROOT));
    if (state.isLive()) state = RunState.INTERRUPTED;
    StepLog log = StepLog.open(dir);
    long n = log.count();
    // the best loss up to the step run.json was written at is in it: only the steps after it are scanned
    double best = m.get("best_loss") == null ? Double.NaN : number(m.get("best_loss"));
    long known = Double.isNaN(best) ? 0 : log.find(((Number) m.get("step")).longValue() + 1, n);
    double loss = Double.NaN;
    double lr = Double.NaN;
    double grad = Double.NaN;
    if (n > 0) {
      Columns c = log.map(Math.min(known, n - 1), n);   // at least the last step, for its values
      for (int i = 0; i < c.size(); i++) if (c.loss(i) < best || Double.isNaN(best)) best = c.loss(i);
      loss = c.loss(c.size() - 1);
      lr = c.lr(c.size() - 1);
      grad = c.gradNorm(c.size() - 1);
    }
    logs.put(id, log);
    long created = ((Number) m.get("created")).longValue();
    long updated = ((Number) m.get("updated")).longValue();
    List<LrChange> changes = new ArrayList<>();
    if (m.get("lr_changes") instanceof List<?> l) {
      for (Object o : l) {
        Map<String, Object> c = (Map<String, Object>) o;
        changes.add(new LrChange(((Number) c.get("step")).longValue(), number(c.get("from")), number(c.get("to")),
            (String) c.get("cause")));
      }
    }
    List<Rewind> rewinds = new ArrayList<>();
    if (m.get("rewinds") instanceof List<?> l) {
      for (Object o : l) {
        Map<String, Object> r = (Map<String, Object>) o;
        rewinds.add(new Rewind(((Number) r.get("at")).longValue(), ((Number) r.get("to")).longValue(),
            number(r.get("lr_before")), number(r.get("lr_after")), (String) r.get("why")));
      }
    }
    String parent = (String) m.get("parent");
    long branchedAt = parent == null ? 0 : ((Number) m.get("branched_at")).longValue();
    RunSummary.Curvature curvature = curvature(m.get("curvature") instanceof Map<?, ?> c ? c : null, log, spec);
    List<StepBatch> abandoned = abandoned(id);
    // a cycle per rewind its folder holds; a rewind cut short by a kill (its stretch kept apart, the log not yet cut
    // back) is finished here, so the next cycle's steps never land behind the undone ones
    if (!abandoned.isEmpty() && abandoned.get(abandoned.size() - 1).size() > 0) {
      StepBatch last = abandoned.get(abandoned.size() - 1);
      long r = log.find(last.firstStep(), log.count());
      if (r < log.count()) {
        Columns c = log.map(r, r + 1);
        if (c.step(0) == last.firstStep() && c.t(0) == last.t()[0]
            && Double.doubleToLongBits(c.loss(0)) == Double.doubleToLongBits(last.loss()[0])) {
          log.cutAfter(last.firstStep() - 1);   // the log still holds the undone steps themselves
        }
      }
    }
    RunSummary s = new RunSummary(id, spec, state, abandoned.size(), Math.max(branchedAt, log.lastStep()), loss, lr, grad,
        best, 0, created, updated, Diagnosis.UNKNOWN, List.copyOf(changes), null, parent, branchedAt, List.copyOf(rewinds),
        curvature, null);
    return new Restored(s, log, abandoned);
  }

  /** Records scanned back from a log's end for its last curvature measurement (measurements come every few hundred). */
  private static final long CURVATURE_SCAN = 1 << 20;

  /**
   * A restored run's last curvature measurement: the log's (run.json is written on state changes, the log with every
   * step), with what run.json says of it — whether it is preconditioned and, for a script's run, the threshold its
   * script gave; a built-in run's is lr × sharpness ÷ stability, as measured. run.json's alone when the log's is
   * further back than the scan.
   */
  private static RunSummary.Curvature curvature(Map<?, ?> saved, StepLog log, RunSpec spec) throws IOException {
    RunSummary.Curvature c = saved == null ? null : new RunSummary.Curvature(((Number) saved.get("step")).longValue(),
        number(saved.get("sharpness")), number(saved.get("threshold")), number(saved.get("stability")),
        Boolean.TRUE.equals(saved.get("preconditioned")));
    if (!log.curvature()) return c;
    long n = log.count();
    for (long hi = n; hi > 0 && n - hi < CURVATURE_SCAN; hi -= 8192) {
      Columns cols = log.map(Math.max(0, hi - 8192), hi);
      for (int i = cols.size() - 1; i >= 0; i--) {
        double sharpness = cols.sharpness(i);
        if (Double.isNaN(sharpness)) continue;
        if (c != null && c.step() >= cols.step(i)) return c;
        double stability = cols.stability(i);
        boolean pre = c != null ? c.preconditioned() : !spec.external() && spec.optimizer().create(1).preconditioned();
        double threshold = spec.external() && c != null ? c.threshold()
            : stability != 0 && Double.isFinite(stability) ? cols.lr(i) * sharpness / stability : Double.NaN;
        return new RunSummary.Curvature(cols.step(i), sharpness, threshold, stability, pre);
      }
    }
    return c;
  }

  /** A double as {@link Json} writes it: a number, or "NaN", "Infinity", "-Infinity". */
  private static double number(Object o) {
    return o instanceof String str ? Double.parseDouble(str) : ((Number) o).doubleValue();
  }

  /** Forces what every open log wrote since its last force (the periodic fsync). */
  public void force() {
    for (StepLog log : logs.values()) {
      try {
        log.force();
      } catch (IOException e) {
        LOG.warning("cannot force " + log.dir() + ": " + e.getMessage());
      }
    }
  }

  /** Forces and closes every log's writer. */
  public void close() {
    for (StepLog log : logs.values()) {
      try {
        log.closeWriter();
      } catch (IOException e) {
        LOG.log(Level.WARNING, "cannot force " + log.dir() + ": " + e.getMessage());
      }
    }
  }
}
