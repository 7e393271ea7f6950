package io.losswatch.store;

import io.losswatch.core.RunSpec;
import io.losswatch.core.config.Json;
import io.losswatch.core.config.SpecException;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
public final class RunStore {
  private static final Logger LOG = Logger.getLogger(RunStore.class.getName());
  private final Path root;
  private final Map<String, StepLog> logs = new ConcurrentHashMap<>();

  public RunStore(Path dataDir) {
    this.root = dataDir.resolve("runs");
  }

  /** A run found on disk at start-up: its summary as of the last write and its repaired log. */
  public record Restored(RunSummary summary, StepLog log) {
  }

  /** A new, empty log for a run. */
  public StepLog create(String id) {
    try {
      StepLog log = StepLog.open(root.resolve(id));
      logs.put(id, log);
      return log;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the log of run " + id + " under " + root, e);
    }
  }

  public StepLog log(String id) {
    return logs.get(id);
  }

  /** Records a run's latest summary (atomically: a kill leaves the old file or the new one). */
  public void writeMeta(RunSummary s) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id());
    m.put("state", s.state().label());
    m.put("created", (double) s.created());
    m.put("updated", (double) s.updated());
    m.put("spec", s.spec().json());
    Path dir = root.resolve(s.id());
    Path tmp = dir.resolve("run.json.tmp");
    Files.writeString(tmp, Json.write(m), StandardCharsets.UTF_8);
    Files.move(tmp, dir.resolve("run.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Closes a run's log and removes its files. */
  public void delete(String id) throws IOException {
    StepLog log = logs.remove(id);
    if (log != null) log.close();
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
          out.add(load(dir));
        } catch (IOException | RuntimeException e) {
          LOG.log(Level.WARNING, "skipping unreadable run in " + dir + ": " + e.getMessage());
        }
      }
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot list " + root + ": " + e.getMessage());
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private Restored load(Path dir) throws IOException {
    Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(dir.resolve("run.json")));
    String id = (String) m.get("id");
    if (id == null || !dir.getFileName().toString().equals(id)) throw new SpecException("id", "does not match its folder");
    RunSpec spec = RunSpec.from(m.get("spec"));
    RunState state = RunState.valueOf(((String) m.get("state")).toUpperCase(Locale.ROOT));
    if (state.isLive()) state = RunState.INTERRUPTED;
    StepLog log = StepLog.open(dir);
    long n = log.count();
    double best = Double.NaN;
    double loss = Double.NaN;
    double lr = Double.NaN;
    double grad = Double.NaN;
    if (n > 0) {
      Columns c = log.map(1, n);
      for (int i = 0; i < n; i++) if (c.loss(i) < best || Double.isNaN(best)) best = c.loss(i);
      loss = c.loss((int) n - 1);
      lr = c.lr((int) n - 1);
      grad = c.gradNorm((int) n - 1);
    }
    logs.put(id, log);
    long created = ((Number) m.get("created")).longValue();
    long updated = ((Number) m.get("updated")).longValue();
    RunSummary s = new RunSummary(id, spec, state, 0, n, loss, lr, grad, best, 0, created, updated,
        Diagnosis.UNKNOWN, List.of());
    return new Restored(s, log);
  }

  /** Closes every log. */
  public void close() {
    for (StepLog log : logs.values()) {
      try {
        log.close();
      } catch (IOException e) {
        LOG.log(Level.FINE, "closing " + log.dir(), e);
      }
    }
  }
}
