package io.cacheproxy.cli;

import java.io.Console;
import java.lang.reflect.Method;

/** What the CLI asks of the terminal it runs in. */
public final class Terminal {
    private Terminal() {
    }

    /**
     * Whether this JVM's standard streams are a terminal (progress lines are drawn only then).
     * Before Java 22 a console exists only then; from 22 one may exist anyway, and
     * {@code Console.isTerminal()} (called reflectively: the code targets 21) tells.
     */
    public static boolean isTerminal() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            Method isTerminal = Console.class.getMethod("isTerminal");
            return (Boolean) isTerminal.invoke(console);
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }
}
