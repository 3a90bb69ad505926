import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import io.netty.channel.Channel;
import org.h2.mvstore.MVStore;

/**
 * A MongoDB-wire server for local development and tests: mongo-java-server with its H2 MVStore
 * file backend, so data survives restarts. Run as a single-file Java program:
 *   java -cp "lib/*" TributaryMongoServer.java <host> <port> <data-file>
 *
 * Why the subclass: MVStore commits on a timer by default, so a `kill -9` could lose the last
 * second of acknowledged writes. Committing after every message makes an acknowledged write durable.
 */
public class TributaryMongoServer {
  static final class DurableH2Backend extends H2Backend {
    DurableH2Backend(MVStore store) {
      super(store);
    }

    @Override
    public synchronized Document handleMessage(MongoMessage message) {
      Document result = super.handleMessage(message);
      commit();
      return result;
    }

    @Override
    public synchronized Document handleCommand(Channel channel, String database, String command, Document query) {
      Document result = super.handleCommand(channel, database, command, query);
      commit();
      return result;
    }
  }

  /**
   * The Node.js driver 7 refuses servers below wire version 9 (MongoDB 4.4), and mongo-java-server's
   * own MONGO_5_0 reports wire version 8. We report 5.0's real wire version, 13; the commands the
   * pipeline uses (CRUD, bulk writes, indexes, aggregate) behave the same.
   */
  static final MongoVersion REPORTED_VERSION = new MongoVersion() {
    @Override
    public java.util.List<Integer> getVersionArray() {
      return java.util.List.of(5, 0, 0);
    }

    @Override
    public int getWireVersion() {
      return 13;
    }
  };

  public static void main(String[] args) {
    if (args.length != 3) {
      System.err.println("usage: TributaryMongoServer <host> <port> <data-file>");
      System.exit(2);
    }
    MVStore store = new MVStore.Builder().fileName(args[2]).compress().open();
    DurableH2Backend backend = new DurableH2Backend(store);
    backend.version(REPORTED_VERSION);
    MongoServer server = new MongoServer(backend);
    server.bind(args[0], Integer.parseInt(args[1]));
    System.out.println("mongo-wire server listening on " + args[0] + ":" + args[1] + " data=" + args[2]);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdownNow();
      System.out.println("mongo-wire server stopped");
    }));
  }
}
