package dev.conveyor.streams.decode;

import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a pipeline author's classes (a {@link SampleMap}, a pipeline) are found: this process's
 * class path, and the jars or folders added with {@code --classpath}. One per process, like the
 * class path itself; added to before any job starts.
 */
public final class AuthorClasses {
  private static volatile ClassLoader loader = AuthorClasses.class.getClassLoader();
  private static final List<Path> ADDED = new ArrayList<>();

  private AuthorClasses() {}

  /** Adds jars or class folders; each must exist. Throws IllegalArgumentException naming a missing one. */
  public static synchronized void add(List<Path> paths) {
    if (paths.isEmpty()) {
      return;
    }
    List<URL> urls = new ArrayList<>();
    for (Path p : paths) {
      if (ADDED.contains(p)) {
        continue; // added by an earlier job in this process
      }
      if (!Files.exists(p)) {
        throw new IllegalArgumentException("--classpath: " + p + " does not exist");
      }
      if (!Files.isDirectory(p) && !p.toString().endsWith(".jar")) {
        throw new IllegalArgumentException("--classpath: " + p + " is neither a .jar nor a folder of classes");
      }
      try {
        urls.add(p.toAbsolutePath().toUri().toURL());
      } catch (MalformedURLException e) {
        throw new IllegalArgumentException("--classpath: " + p + ": " + e.getMessage(), e);
      }
      ADDED.add(p);
    }
    if (!urls.isEmpty()) {
      loader = new URLClassLoader(urls.toArray(URL[]::new), loader);
    }
  }

  /** A new instance of {@code className}, which must implement {@code type} and have a public no-argument constructor. */
  public static <T> T instance(String className, Class<T> type) {
    try {
      Class<?> c = Class.forName(className, true, loader);
      if (!type.isAssignableFrom(c)) {
        throw new IllegalArgumentException(className + " does not implement " + type.getName());
      }
      return type.cast(c.getConstructor().newInstance());
    } catch (ClassNotFoundException e) {
      throw new IllegalArgumentException("no class " + className + " on the class path" + where(), e);
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw new IllegalArgumentException(className + "'s constructor failed: " + e.getCause(), e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException(className + " needs a public no-argument constructor: " + e, e);
    } catch (LinkageError e) {
      throw new IllegalArgumentException(className + " cannot be loaded: " + e, e);
    }
  }

  private static synchronized String where() {
    return (ADDED.isEmpty() ? "" : " or in " + ADDED) + " (add its jar with --classpath JAR)";
  }
}
