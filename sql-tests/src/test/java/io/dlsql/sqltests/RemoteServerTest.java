package io.dlsql.sqltests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.jdbc.server.DlsqlServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dlsql server} as its users meet it: a separate JVM serving a data directory with a
 * trained model, reached from this JVM through the Avatica thin driver and {@code
 * jdbc:dlsql:remote:}, and from sqlline, a third-party client in a process of its own. Covers
 * SHOW MODELS, PREDICT joined and grouped, EVALUATE, HTTP BASIC authentication from a users file,
 * and the refusal to listen beyond loopback without one. Every remote result is compared with what
 * the embedded driver returned for the same statement on the same data.
 */
class RemoteServerTest {
  private static final int IMAGES = 300;
  private static final int CLASSES = 10;
  private static final String TABLE = "fashion";
  private static final String MODEL = "tiny";
  private static final String USER = "alice";
  private static final String PASSWORD = "correct-horse-battery";
  private static final String WRONG_PASSWORD = "wrong-horse";
  private static final String SERVER_CLASS = DlsqlServer.class.getName();
  private static final String SQLLINE_CLASS = "sqlline.SqlLine";
  private static final String LOOPBACK = "127.0.0.1";
  private static final String ALL_INTERFACES = "0.0.0.0";
  /** A cold JVM on two shared cores; generous so that a busy build machine does not fail the test. */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(120);
  private static final Pattern LISTENING = Pattern.compile("dlsql server listening on \\S+:(\\d+)");
  private static final String UNAUTHORIZED = "401";

  private static final String CREATE_MODEL = "CREATE MODEL " + MODEL + " (INPUT image TENSOR(1, 28, 28),"
      + " CONV2D(4, KERNEL 3), RELU, MAXPOOL(2), FLATTEN, DENSE(" + CLASSES + ")) OUTPUT label CLASSES " + CLASSES;
  private static final String TRAIN = "TRAIN MODEL " + MODEL + " ON (SELECT image, label FROM " + TABLE + ")"
      + " WITH (epochs = 1, batch_size = 32, learning_rate = 0.05, seed = 7)";
  private static final String SHOW_MODELS = "SHOW MODELS";
  private static final String EVALUATE = "EVALUATE MODEL " + MODEL + " ON (SELECT image, label FROM " + TABLE + ")";
  /** PREDICT composed with a join and GROUP BY, as a BI tool would send it. */
  private static final String PREDICT_BY_LABEL = "SELECT t.label, COUNT(*) AS images,"
      + " SUM(CASE WHEN p.predicted_label = t.label THEN 1 ELSE 0 END) AS correct"
      + " FROM PREDICT(MODEL " + MODEL + ", (SELECT id, image FROM " + TABLE + ")) AS p"
      + " JOIN " + TABLE + " AS t ON p.id = t.id GROUP BY t.label ORDER BY t.label";

  @TempDir static Path temp;

  private static QueryRows expectedModels;
  private static QueryRows expectedPredict;
  private static QueryRows expectedEvaluate;
  /** Serves the data directory on loopback without authentication. */
  private static JvmProcess openServer;
  private static int openPort;
  /** Serves a copy of it on all interfaces, with BASIC authentication from a users file. */
  private static JvmProcess authServer;
  private static int authPort;

  @BeforeAll
  static void startServers() throws Exception {
    if (!Files.isReadable(FashionMnist.TRAIN_IMAGES)) {
      return; // the tests that need the servers skip themselves
    }
    Path openData = temp.resolve("open-data");
    try (Connection connection = DriverManager.getConnection("jdbc:dlsql:" + openData);
        Statement statement = connection.createStatement()) {
      FashionMnist.createTable(statement, TABLE, IMAGES);
      statement.execute(CREATE_MODEL);
      statement.execute(TRAIN);
      // EVALUATE stores the accuracy that SHOW MODELS shows, so it runs first.
      expectedEvaluate = QueryRows.query(statement, EVALUATE);
      expectedModels = QueryRows.query(statement, SHOW_MODELS);
      expectedPredict = QueryRows.query(statement, PREDICT_BY_LABEL);
    }
    checkExpectations();
    // Each server gets its own directory: a data directory belongs to one process at a time.
    Path authData = temp.resolve("auth-data");
    copyTree(openData, authData);
    Path users = temp.resolve("users.properties");
    Files.writeString(users, "# name: password\n" + USER + ": " + PASSWORD + "\n");

    openServer = JvmProcess.startEngine(SERVER_CLASS,
        List.of("--data", openData.toString(), "--port", "0", "--bind", LOOPBACK));
    authServer = JvmProcess.startEngine(SERVER_CLASS, List.of("--data", authData.toString(), "--port", "0",
        "--bind", ALL_INTERFACES, "--users", users.toString()));
    openPort = Integer.parseInt(openServer.awaitLine(LISTENING, START_TIMEOUT).group(1));
    authPort = Integer.parseInt(authServer.awaitLine(LISTENING, START_TIMEOUT).group(1));
  }

  /** The embedded results the remote ones are compared with must themselves be right. */
  private static void checkExpectations() {
    assertEquals(List.of(MODEL), expectedModels.column("name"), "SHOW MODELS");
    assertEquals(List.of("TRAINED"), expectedModels.column("status"));
    assertEquals(List.of(1L), expectedModels.column("epochs_trained"));
    assertEquals(CLASSES, expectedPredict.rows().size(), "PREDICT grouped by label: one row per class");
    assertEquals((long) IMAGES, expectedPredict.column("images").stream().mapToLong(v -> (Long) v).sum());
    assertEquals(CLASSES + 1, expectedEvaluate.rows().size(), "EVALUATE: overall row and one per class");
    assertEquals("all", expectedEvaluate.rows().get(0).get(0));
    assertEquals((long) IMAGES, expectedEvaluate.column("images").get(0));
    long correct = expectedPredict.column("correct").stream().mapToLong(v -> (Long) v).sum();
    assertEquals((double) correct / IMAGES, (Double) expectedEvaluate.column("accuracy").get(0), 1e-12,
        "EVALUATE's accuracy agrees with PREDICT's correct predictions");
  }

  @AfterAll
  static void stopServers() {
    Stream.of(openServer, authServer).filter(p -> p != null).forEach(JvmProcess::close);
  }

  private static String avaticaUrl(int port) {
    return "jdbc:avatica:remote:url=http://" + LOOPBACK + ":" + port + ";serialization=protobuf";
  }

  private static String dlsqlUrl(int port) {
    return "jdbc:dlsql:remote:url=http://" + LOOPBACK + ":" + port;
  }

  /** Avatica's client properties for HTTP BASIC authentication (plain user/password go to the engine). */
  private static String basicAuth(String user, String password) {
    return ";authentication=BASIC;avatica_user=" + user + ";avatica_password=" + password;
  }

  private static void assertServesModelPredictAndEvaluate(Connection connection, String driver) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      QueryRows.assertSameRows(expectedModels, QueryRows.query(statement, SHOW_MODELS), driver + " SHOW MODELS");
      QueryRows.assertSameRows(expectedPredict, QueryRows.query(statement, PREDICT_BY_LABEL), driver + " PREDICT");
      QueryRows.assertSameRows(expectedEvaluate, QueryRows.query(statement, EVALUATE), driver + " EVALUATE");
    }
  }

  @Test
  void avaticaThinDriverRunsShowModelsPredictAndEvaluate() throws SQLException {
    FashionMnist.assumeInstalled();
    assertEquals(org.apache.calcite.avatica.remote.Driver.class,
        DriverManager.getDriver(avaticaUrl(openPort)).getClass(), "Avatica's thin driver, not dlsql's, serves this URL");
    try (Connection connection = DriverManager.getConnection(avaticaUrl(openPort))) {
      assertServesModelPredictAndEvaluate(connection, "Avatica thin driver");
    }
  }

  @Test
  void dlsqlRemoteDriverRunsShowModelsPredictAndEvaluate() throws SQLException {
    FashionMnist.assumeInstalled();
    try (Connection connection = DriverManager.getConnection(dlsqlUrl(openPort))) {
      assertServesModelPredictAndEvaluate(connection, "jdbc:dlsql:remote");
    }
  }

  @Test
  void sqllineShowsModelAndPredictRows() throws Exception {
    FashionMnist.assumeInstalled();
    String output = runSqlline(avaticaUrl(openPort), USER, PASSWORD);
    assertSqllineShowsResults(output);
  }

  @Test
  void usersFileRefusesMissingAndWrongCredentials() throws Exception {
    FashionMnist.assumeInstalled();
    String withoutCredentials = avaticaUrl(authPort);
    String wrongPassword = avaticaUrl(authPort) + basicAuth(USER, WRONG_PASSWORD);
    String unknownUser = avaticaUrl(authPort) + basicAuth("mallory", PASSWORD);
    for (String url : List.of(withoutCredentials, wrongPassword, unknownUser)) {
      assertRefused(() -> DriverManager.getConnection(url), url);
    }
    // Standard JDBC user/password properties are the engine's, not the HTTP server's: still refused.
    Properties jdbcUser = new Properties();
    jdbcUser.setProperty("user", USER);
    jdbcUser.setProperty("password", PASSWORD);
    assertRefused(() -> DriverManager.getConnection(withoutCredentials, jdbcUser), "user/password properties only");

    Properties wrong = new Properties();
    wrong.setProperty("authentication", "BASIC");
    wrong.setProperty("avatica_user", USER);
    wrong.setProperty("avatica_password", WRONG_PASSWORD);
    assertRefused(() -> DriverManager.getConnection(dlsqlUrl(authPort), wrong), "jdbc:dlsql:remote, wrong password");
    assertRefused(() -> DriverManager.getConnection(dlsqlUrl(authPort)), "jdbc:dlsql:remote, no credentials");

    String output = runSqlline(wrongPassword, USER, WRONG_PASSWORD);
    assertTrue(output.contains(UNAUTHORIZED), "sqlline reports the refusal:\n" + output);
    assertFalse(output.contains("'" + MODEL + "'"), "sqlline must get no rows:\n" + output);
  }

  @Test
  void usersFileAdmitsRightCredentials() throws Exception {
    FashionMnist.assumeInstalled();
    try (Connection connection = DriverManager.getConnection(avaticaUrl(authPort) + basicAuth(USER, PASSWORD))) {
      assertServesModelPredictAndEvaluate(connection, "Avatica thin driver with BASIC authentication");
    }
    Properties credentials = new Properties();
    credentials.setProperty("authentication", "BASIC");
    credentials.setProperty("avatica_user", USER);
    credentials.setProperty("avatica_password", PASSWORD);
    try (Connection connection = DriverManager.getConnection(dlsqlUrl(authPort), credentials);
        Statement statement = connection.createStatement()) {
      QueryRows.assertSameRows(expectedPredict, QueryRows.query(statement, PREDICT_BY_LABEL),
          "jdbc:dlsql:remote with BASIC authentication, PREDICT");
    }
    assertSqllineShowsResults(runSqlline(avaticaUrl(authPort) + basicAuth(USER, PASSWORD), USER, PASSWORD));
  }

  @Test
  void bindBeyondLoopbackWithoutUsersFileRefusesToStart() throws Exception {
    Path data = temp.resolve("refused-data");
    try (JvmProcess server = JvmProcess.startEngine(SERVER_CLASS,
        List.of("--data", data.toString(), "--port", "0", "--bind", ALL_INTERFACES))) {
      int exit = server.waitFor(START_TIMEOUT);
      String output = server.output();
      assertNotEquals(0, exit, "the server must exit with an error:\n" + output);
      assertTrue(output.contains("refusing to listen on " + ALL_INTERFACES + " without authentication"),
          "the message says why:\n" + output);
      assertTrue(output.contains("--users FILE"), "the message says how to fix it:\n" + output);
      assertFalse(LISTENING.matcher(output).find(), "it must never have listened:\n" + output);
    }
  }

  private interface Connect {
    Connection open() throws SQLException;
  }

  /** The connection, or its first statement, fails with HTTP 401 and returns no rows. */
  private static void assertRefused(Connect connect, String what) {
    Exception e = assertThrows(Exception.class, () -> {
      try (Connection connection = connect.open(); Statement statement = connection.createStatement()) {
        QueryRows rows = QueryRows.query(statement, SHOW_MODELS);
        throw new AssertionError(what + ": expected a refusal but got rows " + rows.rows());
      }
    }, what);
    String messages = messages(e);
    assertTrue(messages.contains(UNAUTHORIZED), what + ": the error names the refusal (HTTP 401): " + messages);
  }

  private static String messages(Throwable e) {
    List<String> messages = new ArrayList<>();
    for (Throwable t = e; t != null; t = t.getCause()) {
      messages.add(t.getClass().getSimpleName() + ": " + t.getMessage());
    }
    return String.join(" <- ", messages);
  }

  /**
   * Runs SHOW MODELS and the PREDICT query through sqlline 1.12 in its own JVM, with sqlline and
   * the Avatica client on its class path and none of dlsql's classes; output as CSV.
   */
  private static String runSqlline(String url, String user, String password) throws Exception {
    Path script = Files.createTempFile(temp, "sqlline-", ".sql");
    Files.writeString(script, SHOW_MODELS + ";\n" + PREDICT_BY_LABEL + ";\n");
    Path home = Files.createTempDirectory(temp, "sqlline-home-");
    List<String> flags = List.of("-Duser.home=" + home, "--enable-native-access=ALL-UNNAMED");
    List<String> args = List.of("-u", url, "-n", user, "-p", password, "--outputformat=csv",
        "--isolation=TRANSACTION_NONE", "--run=" + script);
    try (JvmProcess sqlline = JvmProcess.start(flags, JvmProcess.thirdPartyClassPath(), SQLLINE_CLASS, args)) {
      sqlline.waitFor(CLIENT_TIMEOUT);
      return sqlline.output();
    }
  }

  /** sqlline's CSV shows the model's row and exactly the PREDICT rows the embedded driver returned. */
  private static void assertSqllineShowsResults(String output) {
    List<String> lines = output.lines().toList();
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("'" + MODEL + "','trained','TRAINED',")),
        "sqlline shows the trained model:\n" + output);
    String header = csv(expectedPredict.columns());
    int start = lines.indexOf(header);
    assertTrue(start >= 0, "sqlline shows the PREDICT columns " + header + ":\n" + output);
    List<String> expected = expectedPredict.rows().stream().map(RemoteServerTest::csv).toList();
    assertEquals(expected, lines.subList(start + 1, Math.min(lines.size(), start + 1 + expected.size())),
        "sqlline's PREDICT rows:\n" + output);
  }

  private static String csv(List<?> values) {
    return values.stream().map(v -> "'" + v + "'").collect(Collectors.joining(","));
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path source : walk.toList()) {
        Files.copy(source, to.resolve(from.relativize(source).toString()));
      }
    }
  }
}
