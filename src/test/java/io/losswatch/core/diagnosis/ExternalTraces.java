package io.losswatch.core.diagnosis;

import io.losswatch.core.config.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The real minibatch traces of {@code src/test/resources/external} (made by {@code src/test/python/make_external_traces.py}
 * with torch): what a script's {@code log()} would have sent, step by step, and where each run ended.
 */
public final class ExternalTraces {
  /** One recorded run: per step its raw minibatch loss, lr and gradient norm; val_acc every 50 steps (NaN between). */
  public record Trace(String name, String optimizer, int numClasses, double finalValAcc, long[] step, double[] loss,
      double[] lr, double[] gradNorm, double[] valAcc) {
    public int size() {
      return step.length;
    }

    /** The held-out accuracy last measured at or before index {@code i}. */
    public double valAccAt(int i) {
      for (int k = Math.min(i, size() - 1); k >= 0; k--) if (!Double.isNaN(valAcc[k])) return valAcc[k];
      return Double.NaN;
    }
  }

  private ExternalTraces() {
  }

  private static final Map<String, Trace> LOADED = new java.util.concurrent.ConcurrentHashMap<>();

  /** The recorded run {@code name} (read once; its arrays are shared: don't write them). */
  public static Trace load(String name) {
    return LOADED.computeIfAbsent(name, ExternalTraces::read);
  }

  @SuppressWarnings("unchecked")
  private static Trace read(String name) {
    Map<String, Object> index = (Map<String, Object>) Json.parse(text("cases.json", false));
    for (Object o : (List<Object>) index.get("cases")) {
      Map<String, Object> c = (Map<String, Object>) o;
      if (!name.equals(c.get("name"))) continue;
      Object classes = c.get("num_classes");
      Object acc = c.get("final_val_acc");
      return read(name, (String) c.get("optimizer"), classes == null ? 0 : ((Double) classes).intValue(),
          acc == null ? Double.NaN : (Double) acc);
    }
    throw new IllegalArgumentException("no external trace " + name);
  }

  private static Trace read(String name, String optimizer, int classes, double acc) {
    String[] lines = text(name + ".csv.gz", true).split("\n");
    int n = lines.length - 1;
    long[] step = new long[n];
    double[] loss = new double[n];
    double[] lr = new double[n];
    double[] grad = new double[n];
    double[] val = new double[n];
    for (int i = 0; i < n; i++) {
      String[] c = lines[i + 1].split(",", -1);
      step[i] = Long.parseLong(c[0]);
      loss[i] = number(c[1]);
      lr[i] = number(c[2]);
      grad[i] = number(c[3]);
      val[i] = c[5].isEmpty() ? Double.NaN : number(c[5]);
    }
    return new Trace(name, optimizer, classes, acc, step, loss, lr, grad, val);
  }

  private static double number(String s) {
    return switch (s) {
      case "nan" -> Double.NaN;
      case "inf" -> Double.POSITIVE_INFINITY;
      case "-inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(s);
    };
  }

  private static String text(String file, boolean gzip) {
    try (InputStream raw = ExternalTraces.class.getResourceAsStream("/external/" + file)) {
      if (raw == null) throw new IllegalArgumentException("no resource /external/" + file);
      InputStream in = gzip ? new GZIPInputStream(raw) : raw;
      StringBuilder b = new StringBuilder();
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) b.append(line).append('\n');
      }
      return b.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every recorded case's name. */
  public static List<String> names() {
    List<String> out = new ArrayList<>();
    @SuppressWarnings("unchecked")
    Map<String, Object> index = (Map<String, Object>) Json.parse(text("cases.json", false));
    for (Object o : (List<?>) index.get("cases")) out.add((String) ((Map<?, ?>) o).get("name"));
    return out;
  }
}
