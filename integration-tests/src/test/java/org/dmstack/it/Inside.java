package org.dmstack.it;

import java.io.IOException;
import java.io.InputStream;
import org.osgi.framework.Bundle;
import org.osgi.framework.wiring.BundleWiring;

/**
 * Loads the test classes of {@code org.dmstack.it.inside} so that they run against the bundles'
 * classes: dmstack API classes come from the core bundle (and org.dmstack.pmem from the pmem
 * bundle), as they do for any bundle in the framework. The test talks to them through java.*
 * types only.
 */
final class Inside extends ClassLoader {
    private static final String PACKAGE = "org.dmstack.it.inside.";
    private final ClassLoader core;
    private final Bundle pmem;

    Inside(Bundle core, Bundle pmem) {
        super(core.adapt(BundleWiring.class).getClassLoader());
        this.core = getParent();
        this.pmem = pmem;
    }

    @Override
    protected synchronized Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (name.startsWith(PACKAGE)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                try (InputStream in = Inside.class.getClassLoader().getResourceAsStream(name.replace('.', '/') + ".class")) {
                    if (in == null) throw new ClassNotFoundException(name);
                    byte[] bytes = in.readAllBytes();
                    c = defineClass(name, bytes, 0, bytes.length);
                } catch (IOException e) {
                    throw new ClassNotFoundException(name, e);
                }
            }
            return c;
        }
        if (name.startsWith("org.dmstack.pmem.") && pmem != null) return pmem.loadClass(name);
        return core.loadClass(name);
    }

    /** A new instance of an inside class, made with the constructor that takes {@code args}. */
    @SuppressWarnings("unchecked")
    <T> T create(String simpleName, Class<?>[] types, Object... args) {
        try {
            return (T) loadClass(PACKAGE + simpleName).getConstructor(types).newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
