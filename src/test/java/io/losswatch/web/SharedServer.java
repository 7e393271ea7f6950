package io.losswatch.web;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** One real server for all the tests of a class (each test makes its own runs). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SharedServer {
  TestServer server;

  @BeforeAll
  void start() throws Exception {
    server = new TestServer();
  }

  @AfterAll
  void stop() throws Exception {
    server.close();
  }
}
