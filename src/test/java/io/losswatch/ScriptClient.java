package io.losswatch;

import io.losswatch.core.config.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * A training script's side of the append protocol, as the contract asks of every client, in plain JDK HTTP: each
 * batch of steps is kept until an append of it is answered 2xx; a 503 or a failed connection (a server stopping,
 * starting, or gone) sends the same batch again; only a 409 (the run ended, its state named) or another refusal
 * ends the loop. Every answer is kept, for a test to judge. Step k's loss is {@link #loss(long)}, so what is
 * stored can be checked value by value.
 */
public final class ScriptClient {
  /** One answer to an append: its status (-1 for a failed connection) and body. */
  public record Answer(int status, String body) {
  }

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String run;
  private final int batchSteps;
  private volatile String base;
  private final List<Answer> answers = Collections.synchronizedList(new ArrayList<>());
  private volatile long acknowledged;   // the last step of the last batch answered 2xx
  private volatile boolean stop;
  private volatile Answer ended;
  private Thread thread;

  public ScriptClient(String base, String run, int batchSteps) {
    this.base = base;
    this.run = run;
    this.batchSteps = batchSteps;
  }

  /** An external run created on the server at {@code base}: its id. */
  @SuppressWarnings("unchecked")
  public static String create(String base, String name) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/api/runs"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"source\":\"external\",\"name\":\"" + name + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201) throw new AssertionError("create: " + r.statusCode() + " " + r.body());
    return (String) ((Map<String, Object>) Json.parse(r.body())).get("id");
  }

  /** The loss this script logs at step {@code step}. */
  public static double loss(long step) {
    return 1.0 / step;
  }

  /** Where the server is now (a restarted server may listen elsewhere). */
  public void base(String url) {
    base = url;
  }

  /** Appends batch after batch, in a thread of its own, until {@link #stop()} or a refusal. */
  public ScriptClient start() {
    thread = new Thread(this::loop, "script " + run);
    thread.setDaemon(true);
    thread.start();
    return this;
  }

  /** Stops after the append in flight is answered; returns the last step acknowledged. */
  public long stop() throws InterruptedException {
    stop = true;
    thread.join(120_000);
    if (thread.isAlive()) throw new AssertionError("the script did not stop: its append was never answered");
    return acknowledged;
  }

  public long acknowledged() {
    return acknowledged;
  }

  /** The answer that ended the loop (a 409 or another refusal), or null. */
  public Answer ended() {
    return ended;
  }

  public List<Answer> answers() {
    synchronized (answers) {
      return List.copyOf(answers);
    }
  }

  private void loop() {
    long from = 1;
    while (!stop) {
      Answer a = append(from, from + batchSteps - 1);
      answers.add(a);
      if (a.status() / 100 == 2) {
        acknowledged = from + batchSteps - 1;
        from += batchSteps;
      } else if (a.status() != 503 && a.status() != -1) {
        ended = a;
        return;
      } else {
        LockSupport.parkNanos(10_000_000);   // kept, and sent again 10 ms later (a tight loop, without spinning a core)
      }
    }
  }

  /** One append of steps {@code from..to}. */
  public Answer append(long from, long to) {
    StringBuilder steps = new StringBuilder();
    StringBuilder loss = new StringBuilder();
    for (long s = from; s <= to; s++) {
      if (s > from) {
        steps.append(',');
        loss.append(',');
      }
      steps.append(s);
      loss.append(loss(s));
    }
    String body = "{\"step\":[" + steps + "],\"loss\":[" + loss + "]}";
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/runs/" + run + "/steps"))
          .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.body());
    } catch (IOException e) {
      return new Answer(-1, String.valueOf(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(-1, "interrupted");
    }
  }
}
