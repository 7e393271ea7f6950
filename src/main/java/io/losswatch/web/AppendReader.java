package io.losswatch.web;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.io.NumberInput;
import io.losswatch.core.config.SpecException;
import io.losswatch.event.Append;
import io.losswatch.event.StepBatch;
import io.losswatch.run.Run;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads an append's body straight into columns with jackson's streaming parser (strict JSON: no NaN tokens, comments,
 * leading zeros or trailing commas), for exactly this shape,
 * {@code {"step":[…],"loss":[…],"lr":[…],"grad_norm":[…],"t":[…],"metrics":{"name":[…]},"acks":[{"id","step"}]}},
 * with no tree of boxed numbers in between (an append carries tens of thousands of them). Everything is checked
 * before anything is stored; an error names the field and the value, or the offset of malformed JSON.
 */
final class AppendReader {
  /** Steps one append may carry at most (a script sends what piled up since its last one, a few thousand). */
  static final int MAX_STEPS = 10_000;
  /**
   * Extra scalars an append may carry at most (a run may have as many in all), and the form of their names: 1 to 64
   * letters, digits and {@code _ . / -}, starting with a letter or {@code _} ({@code train/loss}, {@code val.acc}).
   */
  static final int MAX_METRICS = Run.MAX_METRICS;
  static final Pattern METRIC_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_./-]{0,63}");
  private static final double MAX_INTEGER = 9.007199254740991E15;   // 2^53 - 1: exact as a JSON number
  private final JsonParser p;

  private AppendReader(JsonParser p) {
    this.p = p;
  }

  /** The append in {@code body} to run {@code run}; steps without a time get {@code now}. */
  static Append read(String run, String body, long now) {
    try (JsonParser p = Json.FACTORY.createParser(body)) {
      return new AppendReader(p).append(run, now);
    } catch (JsonProcessingException e) {
      String what = e instanceof JsonEOFException ? "unexpected end of input"
          : e.getOriginalMessage().replaceFirst("\\s*\\(start marker at \\[Source.*", "");
      throw new SpecException("", "invalid JSON: " + what + " at offset " + e.getLocation().getCharOffset());
    } catch (IOException e) {
      throw new UncheckedIOException(e);   // a String does not fail to read
    }
  }

  private Append append(String run, long now) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) throw new SpecException("", "an append must be a JSON object");
    Map<String, Object> fields = new HashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      if (fields.containsKey(key)) throw new SpecException(key, "duplicate key");
      p.nextToken();
      fields.put(key, switch (key) {
        case "step", "t" -> numbers(key, true);
        case "loss", "lr", "grad_norm" -> numbers(key, false);
        case "metrics" -> metrics();
        case "acks" -> acks();
        default -> throw new SpecException(checked(key), "unknown key in an append (step, loss, lr, grad_norm, t, metrics, acks)");
      });
    }
    if (p.nextToken() != null) {
      throw new SpecException("", "invalid JSON: unexpected trailing content at offset " + p.currentTokenLocation().getCharOffset());
    }
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
    return new Append(new StepBatch(run, 0, steps, column(f, "loss", n), column(f, "lr", n), column(f, "grad_norm", n), t,
        metrics), acks);
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
  private double[] numbers(String field, boolean integers) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) throw new SpecException(field, "must be an array");
    double[] out = new double[64];
    int n = 0;
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      if (n == MAX_STEPS) throw new ApiError(413, field + ": at most " + MAX_STEPS + " steps in one append; send them in parts", field);
      if (n == out.length) out = Arrays.copyOf(out, n * 2);
      out[n] = value(t, field, n, integers);
      n++;
    }
    return Arrays.copyOf(out, n);
  }

  /** The value at token {@code t}, element {@code k} of {@code field} (or, for k &lt; 0, {@code field} itself). */
  private double value(JsonToken t, String field, int k, boolean integer) throws IOException {
    double v;
    if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
      v = p.getLongValue();
    } else if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
      // from the token's characters: the parser's own getDoubleValue goes through a String per number
      v = NumberInput.parseDouble(p.getTextCharacters(), p.getTextOffset(), p.getTextLength(), true);
    } else if (!integer && t == JsonToken.VALUE_NULL) {
      return Double.NaN;
    } else if (!integer && t == JsonToken.VALUE_STRING) {
      switch (p.getText()) {
        case "NaN": return Double.NaN;
        case "Infinity": return Double.POSITIVE_INFINITY;
        case "-Infinity": return Double.NEGATIVE_INFINITY;
        default:
          throw new SpecException(at(field, k), "must be a number, null, \"NaN\", \"Infinity\" or \"-Infinity\", got " + got(t));
      }
    } else {
      throw new SpecException(at(field, k), (integer ? "must be an integer" : "must be a number, null, \"NaN\", "
          + "\"Infinity\" or \"-Infinity\"") + ", got " + got(t));
    }
    if (integer && (v != Math.rint(v) || v < 1 || v > MAX_INTEGER)) {
      throw new SpecException(at(field, k), "must be an integer from 1 to 2^53, got " + Json.text(g -> Json.number(g, v)));
    }
    return v;
  }

  private static String at(String field, int k) {
    return k < 0 ? field : field + "[" + k + "]";
  }

  /** The value at token {@code t} as a message quotes it: a string quoted and cut at 40 characters. */
  private String got(JsonToken t) throws IOException {
    if (t != JsonToken.VALUE_STRING) return p.getText();
    String s = p.getText();
    return Json.quote(s.length() <= 40 ? s : s.substring(0, 40) + "...");
  }

  private Map<String, double[]> metrics() throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) throw new SpecException("metrics", "must be an object of columns");
    Map<String, double[]> out = new LinkedHashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      if (!METRIC_NAME.matcher(name).matches()) {
        throw new SpecException("metrics." + checked(name), "a name is a letter or _ then letters, digits, _ . / or -, at"
            + " most 64 in all, got " + Json.quote(name));
      }
      if (out.containsKey(name)) throw new SpecException("metrics." + name, "duplicate key");
      if (out.size() == MAX_METRICS) throw new SpecException("metrics", "at most " + MAX_METRICS + " names");
      p.nextToken();
      out.put(name, numbers("metrics." + name, false));
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  private List<Append.Ack> acks() throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) throw new SpecException("acks", "must be an array");
    List<Append.Ack> out = new ArrayList<>();
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      String field = "acks[" + out.size() + "]";
      if (out.size() == 100) throw new SpecException("acks", "at most 100");
      if (t != JsonToken.START_OBJECT) throw new SpecException(field, "must be an object {\"id\":…,\"step\":…}");
      String id = null;
      double step = Double.NaN;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        JsonToken v = p.nextToken();
        switch (key) {
          case "id" -> {
            if (v != JsonToken.VALUE_STRING) throw new SpecException(field + ".id", "must be a string, got " + got(v));
            id = checked(p.getText());
          }
          case "step" -> step = value(v, field + ".step", -1, true);
          default -> throw new SpecException(field + "." + checked(key), "unknown key in an ack (id, step)");
        }
      }
      if (id == null || Double.isNaN(step)) throw new SpecException(field, "needs the command's id and the step it took effect at");
      out.add(new Append.Ack(id, (long) step));
    }
    return out;
  }

  /**
   * {@code s}, refused when it holds a lone UTF-16 surrogate (escaped, as {@code \\uD800}): no character at all, it
   * would break whoever reads the text next (as the core's reader refuses it in every other body).
   */
  private String checked(String s) {
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      if (Character.isHighSurrogate(c) && k + 1 < s.length() && Character.isLowSurrogate(s.charAt(k + 1))) k++;
      else if (Character.isSurrogate(c)) {
        throw new SpecException("", "invalid JSON: lone surrogate in a string at offset " + p.currentTokenLocation().getCharOffset());
      }
    }
    return s;
  }
}
