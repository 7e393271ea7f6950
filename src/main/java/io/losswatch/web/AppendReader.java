package io.losswatch.web;

import ch.randelshofer.fastdoubleparser.JsonDoubleParser;
import io.losswatch.core.config.Json;
import io.losswatch.core.config.JsonCursor;
import io.losswatch.core.config.SpecException;
import io.losswatch.event.Append;
import io.losswatch.event.StepBatch;
import io.losswatch.run.Run;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads an append's body straight into columns: a strict JSON reader for exactly this shape,
 * {@code {"step":[…],"loss":[…],"lr":[…],"grad_norm":[…],"t":[…],"sharpness":[…],"stability":[…],"metrics":{"name":[…]},
 * "acks":[{"id","step"}],"curvature":{"preconditioned","threshold"}}},
 * with no tree of boxed numbers in between (an append carries tens of thousands of them). Everything is checked
 * before anything is stored; an error names the field and the value, or the offset of malformed JSON.
 */
final class AppendReader extends JsonCursor {
  /** Steps one append may carry at most (a script sends what piled up since its last one, a few thousand). */
  static final int MAX_STEPS = 10_000;
  /**
   * Extra scalars an append may carry at most (a run may have as many in all), and the form of their names: 1 to 64
   * letters, digits and {@code _ . / -}, starting with a letter or {@code _} ({@code train/loss}, {@code val.acc}).
   */
  static final int MAX_METRICS = Run.MAX_METRICS;
  static final Pattern METRIC_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_./-]{0,63}");
  private static final double MAX_INTEGER = 9.007199254740991E15;   // 2^53: exact as a JSON number
  private AppendReader(String s) {
    super(s);
  }

  /** The append in {@code body} to run {@code run}; steps without a time get {@code now}. */
  static Append read(String run, String body, long now) {
    return new AppendReader(body).append(run, now);
  }

  private Append append(String run, long now) {
    ws();
    if (!peek('{')) throw new SpecException("", "an append must be a JSON object");
    i++;
    Map<String, Object> fields = new LinkedHashMap<>();
    ws();
    if (peek('}')) {
      i++;
    } else {
      while (true) {
        ws();
        String key = string("");
        ws();
        expect(':');
        ws();
        if (fields.containsKey(key)) throw new SpecException(key, "duplicate key");
        fields.put(key, switch (key) {
          case "step", "t" -> numbers(key, true);
          case "loss", "lr", "grad_norm", "sharpness", "stability" -> numbers(key, false);
          case "metrics" -> metrics();
          case "acks" -> acks();
          case "curvature" -> curvature();
          default -> throw new SpecException(key, "unknown key in an append (step, loss, lr, grad_norm, t, sharpness, "
              + "stability, metrics, acks, curvature)");
        });
        ws();
        if (peek(',')) {
          i++;
          continue;
        }
        expect('}');
        break;
      }
    }
    ws();
    if (i != s.length()) throw error("unexpected trailing content");
    return build(run, now, fields);
  }

  @SuppressWarnings("unchecked")
  private static Append build(String run, long now, Map<String, Object> f) {
    double[] step = (double[]) f.getOrDefault("step", new double[0]);
    int n = step.length;
    if (n > 0 && !f.containsKey("loss")) throw new SpecException("loss", "is required, one value per step");
    long[] steps = new long[n];
    for (int k = 0; k < n; k++) {
      steps[k] = (long) step[k];
      if (k > 0 && steps[k] <= steps[k - 1]) {
        throw new SpecException("step[" + k + "]", "steps must increase: step[" + (k - 1) + "] is " + steps[k - 1]
            + ", got " + steps[k]);
      }
    }
    long[] t = new long[n];
    if (f.get("t") instanceof double[] times) {
      length("t", times, n);
      for (int k = 0; k < n; k++) t[k] = (long) times[k];
    } else {
      Arrays.fill(t, now);
    }
    Map<String, double[]> metrics = (Map<String, double[]>) f.getOrDefault("metrics", Map.of());
    for (Map.Entry<String, double[]> e : metrics.entrySet()) length("metrics." + e.getKey(), e.getValue(), n);
    List<Append.Ack> acks = (List<Append.Ack>) f.getOrDefault("acks", List.of());
    // the curvature's columns: kept when some step was measured (null elsewhere); one without the other is NaN
    double[] sharpness = f.containsKey("sharpness") ? column(f, "sharpness", n) : null;
    double[] stability = f.containsKey("stability") ? column(f, "stability", n) : null;
    if (!measured(sharpness) && !measured(stability)) {
      sharpness = stability = null;
    } else {
      if (sharpness == null) sharpness = column(f, "sharpness", n);
      if (stability == null) stability = column(f, "stability", n);
    }
    return new Append(new StepBatch(run, 0, steps, column(f, "loss", n), column(f, "lr", n), column(f, "grad_norm", n), t,
        metrics, sharpness, stability), acks, (Append.Curvature) f.get("curvature"));
  }

  private static boolean measured(double[] column) {
    if (column == null) return false;
    for (double v : column) if (!Double.isNaN(v)) return true;
    return false;
  }

  /** {@code {"preconditioned": bool, "threshold": x}}: what the script's sharpness is, and its optimizer's threshold. */
  private Append.Curvature curvature() {
    if (!peek('{')) throw new SpecException("curvature", "must be an object {\"preconditioned\":…,\"threshold\":…}");
    i++;
    Boolean preconditioned = null;
    double threshold = Double.NaN;
    ws();
    if (!peek('}')) {
      while (true) {
        ws();
        String key = string("curvature");
        ws();
        expect(':');
        ws();
        switch (key) {
          case "preconditioned" -> {
            if (s.startsWith("true", i)) {
              preconditioned = true;
              i += 4;
            } else if (s.startsWith("false", i)) {
              preconditioned = false;
              i += 5;
            } else {
              throw new SpecException("curvature.preconditioned", "must be true or false, got "
                  + s.substring(i, Math.min(s.length(), i + 20)));
            }
          }
          case "threshold" -> {
            threshold = value("curvature.threshold", 0, false);
            if (!Double.isNaN(threshold) && !(threshold > 0 && threshold < Double.POSITIVE_INFINITY)) {
              throw new SpecException("curvature.threshold", "must be a positive number or null, got " + Json.format(threshold));
            }
          }
          default -> throw new SpecException("curvature." + key, "unknown key in curvature (preconditioned, threshold)");
        }
        ws();
        if (peek(',')) {
          i++;
          continue;
        }
        break;
      }
    }
    expect('}');
    if (preconditioned == null) throw new SpecException("curvature.preconditioned", "is required: true or false");
    return new Append.Curvature(preconditioned, threshold);
  }

  private static double[] column(Map<String, Object> f, String key, int n) {
    if (!(f.get(key) instanceof double[] v)) {
      double[] none = new double[n];
      Arrays.fill(none, Double.NaN);
      return none;
    }
    return length(key, v, n);
  }

  private static double[] length(String field, double[] v, int n) {
    if (v.length != n) throw new SpecException(field, "must have one value per step (" + n + "), got " + v.length);
    return v;
  }

  /** An array of numbers (or, unless {@code integers}, null, "NaN", "Infinity", "-Infinity"). */
  private double[] numbers(String field, boolean integers) {
    if (!peek('[')) throw new SpecException(field, "must be an array");
    i++;
    double[] out = new double[64];
    int n = 0;
    ws();
    if (peek(']')) {
      i++;
      return new double[0];
    }
    while (true) {
      ws();
      if (n == MAX_STEPS) throw new ApiError(413, field + ": at most " + MAX_STEPS + " steps in one append; send them in parts", field);
      if (n == out.length) out = Arrays.copyOf(out, n * 2);
      double v = value(field, n, integers);
      out[n++] = v;
      ws();
      if (peek(',')) {
        i++;
        continue;
      }
      expect(']');
      return Arrays.copyOf(out, n);
    }
  }

  private double value(String field, int k, boolean integer) {
    char c = i < s.length() ? s.charAt(i) : 0;
    double v;
    if (c == '-' || (c >= '0' && c <= '9')) {
      int start = skipNumber();
      v = JsonDoubleParser.parseDouble(s, start, i - start);
    } else if (!integer && c == 'n' && s.startsWith("null", i)) {
      i += 4;
      return Double.NaN;
    } else if (!integer && c == '"') {
      int start = i;
      String word = string(field);
      switch (word) {
        case "NaN": return Double.NaN;
        case "Infinity": return Double.POSITIVE_INFINITY;
        case "-Infinity": return Double.NEGATIVE_INFINITY;
        default:
          throw new SpecException(field + "[" + k + "]", "must be a number, null, \"NaN\", \"Infinity\" or \"-Infinity\", got "
              + s.substring(start, Math.min(i, start + 40)));
      }
    } else {
      throw new SpecException(field + "[" + k + "]", (integer ? "must be an integer" : "must be a number, null, \"NaN\", "
          + "\"Infinity\" or \"-Infinity\"") + ", got " + s.substring(i, Math.min(s.length(), i + 20)));
    }
    if (integer && (v != Math.rint(v) || v < 1 || v > MAX_INTEGER)) {
      throw new SpecException(field + "[" + k + "]", "must be an integer from 1 to 2^53, got " + Json.format(v));
    }
    return v;
  }

  private Map<String, double[]> metrics() {
    if (!peek('{')) throw new SpecException("metrics", "must be an object of columns");
    i++;
    Map<String, double[]> out = new LinkedHashMap<>();
    ws();
    if (peek('}')) {
      i++;
      return out;
    }
    while (true) {
      ws();
      String name = string("metrics");
      if (!METRIC_NAME.matcher(name).matches()) {
        throw new SpecException("metrics." + name, "a name is a letter or _ then letters, digits, _ . / or -, at most 64"
            + " in all, got " + Json.write(name));
      }
      if (out.containsKey(name)) throw new SpecException("metrics." + name, "duplicate key");
      if (out.size() == MAX_METRICS) throw new SpecException("metrics", "at most " + MAX_METRICS + " names");
      ws();
      expect(':');
      ws();
      out.put(name, numbers("metrics." + name, false));
      ws();
      if (peek(',')) {
        i++;
        continue;
      }
      expect('}');
      return java.util.Collections.unmodifiableMap(out);
    }
  }

  private List<Append.Ack> acks() {
    if (!peek('[')) throw new SpecException("acks", "must be an array");
    i++;
    List<Append.Ack> out = new ArrayList<>();
    ws();
    if (peek(']')) {
      i++;
      return out;
    }
    while (true) {
      ws();
      String field = "acks[" + out.size() + "]";
      if (out.size() == 100) throw new SpecException("acks", "at most 100");
      if (!peek('{')) throw new SpecException(field, "must be an object {\"id\":…,\"step\":…}");
      i++;
      String id = null;
      double step = Double.NaN;
      while (true) {
        ws();
        String key = string(field);
        ws();
        expect(':');
        ws();
        switch (key) {
          case "id" -> id = string(field + ".id");
          case "step" -> step = value(field + ".step", 0, true);
          default -> throw new SpecException(field + "." + key, "unknown key in an ack (id, step)");
        }
        ws();
        if (peek(',')) {
          i++;
          continue;
        }
        expect('}');
        break;
      }
      if (id == null || Double.isNaN(step)) throw new SpecException(field, "needs the command's id and the step it took effect at");
      out.add(new Append.Ack(id, (long) step));
      ws();
      if (peek(',')) {
        i++;
        continue;
      }
      expect(']');
      return out;
    }
  }

  /** A JSON string, checked strictly by the core reader (escapes, surrogates). */
  private String string(String field) {
    if (!peek('"')) throw new SpecException(field, "expected a string at offset " + i);
    int start = i++;
    while (i < s.length() && s.charAt(i) != '"') i += s.charAt(i) == '\\' ? 2 : 1;
    if (i >= s.length()) throw error("unterminated string");
    i++;
    Object v = Json.parse(s.substring(start, i));
    return (String) v;
  }
}
