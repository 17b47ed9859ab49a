package io.mqttxds.agent.clients;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The clients connected to this broker, as the agent lists them. Fed by HiveMQ's client
 * lifecycle events and SUBSCRIBE/SUBACK/UNSUBSCRIBE interceptors (see hivemq/ClientEvents);
 * it knows nothing of HiveMQ's types, so its rules are tested directly.
 *
 * <p>Every event carries a connection id the agent gave the connection when it started.
 * A client id is reused on take-over: the new connection starts before the old one's
 * disconnect event arrives, and that late event must not remove the new connection.
 *
 * <p>Shared-subscription membership is tracked from what the broker granted: a SUBSCRIBE's
 * {@code $share/...} filters are held as pending until its SUBACK shows which were
 * granted (an authorizer may refuse some). A resumed session brings its subscriptions
 * without any SUBSCRIBE, so those are seeded from HiveMQ's subscription store.
 */
public final class ClientRegistry {
    /** A SUBSCRIBE without a SUBACK yet; bounded because a client could send many and never read. */
    static final int MAX_PENDING_SUBSCRIBES = 256;

    private final Map<String, Entry> byClientId = new ConcurrentHashMap<>();
    /**
     * Client ids whose authentication was reported before their connection start. HiveMQ
     * runs lifecycle callbacks on a pool, and the test suite saw a connected client that was
     * never listed: its "authenticated" came first and found nothing to mark.
     */
    private final Map<String, Boolean> authenticatedEarly = new ConcurrentHashMap<>();

    /**
     * Called when a CONNECT arrives. Replaces any earlier connection of the same client id.
     * Returns true when the client was already reported authenticated and its session may
     * hold subscriptions from before, so the caller should seed them (as after {@link #authenticated}).
     */
    public boolean connectionStarted(String clientId, long connectionId, int mqttVersion, boolean cleanStart,
                                     long sessionExpirySec, long nowMs) {
        Entry e = new Entry(connectionId, mqttVersion, cleanStart, sessionExpirySec, nowMs);
        e.authenticated = authenticatedEarly.remove(clientId) != null;
        byClientId.put(clientId, e);
        return e.authenticated && !cleanStart;
    }

    /**
     * Authentication reported without a connection id. If the connection's entry exists
     * but is not authenticated yet (the id was not yet attached), it is marked now;
     * otherwise the mark waits for the connection start. Returns true when a resumed
     * session should be seeded.
     */
    public boolean authenticatedBeforeStart(String clientId) {
        Entry e = byClientId.get(clientId);
        if (e != null) {
            synchronized (e) {
                if (!e.authenticated) {
                    e.authenticated = true;
                    return !e.cleanStart;
                }
            }
        }
        authenticatedEarly.put(clientId, Boolean.TRUE);
        return false;
    }

    /**
     * Called when authentication succeeded: from now on the client is connected and listed.
     * Returns true when its session may hold subscriptions from before (no clean start),
     * so the caller should seed them with {@link #seedSharedFilters}.
     */
    public boolean authenticated(String clientId, long connectionId) {
        Entry e = current(clientId, connectionId);
        if (e == null) return false;
        synchronized (e) {
            e.authenticated = true;
            return !e.cleanStart;
        }
    }

    /** Called on every kind of disconnect; ignored when it concerns an older connection. */
    public void disconnected(String clientId, long connectionId) {
        byClientId.computeIfPresent(clientId, (id, e) -> e.connectionId == connectionId ? null : e);
    }

    /** A disconnect before the connection had an id: forget an early authentication too. */
    public void disconnectedBeforeStart(String clientId) {
        authenticatedEarly.remove(clientId);
    }

    /** Remembers the {@code $share/} filters of a SUBSCRIBE until its SUBACK says which were granted. */
    public void subscribeReceived(String clientId, long connectionId, int packetId, List<String> topicFilters) {
        if (topicFilters.stream().noneMatch(SharedFilters::isShared)) return;
        Entry e = current(clientId, connectionId);
        if (e == null) return;
        synchronized (e) {
            if (e.pending.size() >= MAX_PENDING_SUBSCRIBES) return;
            e.pending.put(packetId, new ArrayList<>(topicFilters));
        }
    }

    /** {@code granted.get(i)} tells whether the i-th filter of the SUBSCRIBE with this packet id was granted. */
    public void subackSent(String clientId, long connectionId, int packetId, List<Boolean> granted) {
        Entry e = current(clientId, connectionId);
        if (e == null) return;
        synchronized (e) {
            List<String> filters = e.pending.remove(packetId);
            if (filters == null) return;
            for (int i = 0; i < filters.size() && i < granted.size(); i++) {
                String filter = filters.get(i);
                if (filter != null && granted.get(i) && SharedFilters.isShared(filter)) {
                    e.sharedFilters.add(filter);
                    e.removedFilters.remove(filter);
                }
            }
        }
    }

    public void unsubscribeReceived(String clientId, long connectionId, List<String> topicFilters) {
        Entry e = current(clientId, connectionId);
        if (e == null) return;
        synchronized (e) {
            for (String filter : topicFilters) {
                if (!SharedFilters.isShared(filter)) continue;
                e.sharedFilters.remove(filter);
                e.removedFilters.add(filter);
                // An UNSUBSCRIBE overtaking a SUBACK: the later SUBACK must not bring the filter back.
                for (List<String> pending : e.pending.values()) pending.replaceAll(f -> filter.equals(f) ? null : f);
            }
        }
    }

    /**
     * Adds the shared filters a resumed session already had. Filters unsubscribed since this
     * connection started are skipped: the store may have been read before that UNSUBSCRIBE.
     */
    public void seedSharedFilters(String clientId, long connectionId, Collection<String> topicFilters) {
        Entry e = current(clientId, connectionId);
        if (e == null) return;
        synchronized (e) {
            for (String filter : topicFilters) {
                if (SharedFilters.isShared(filter) && !e.removedFilters.contains(filter)) e.sharedFilters.add(filter);
            }
        }
    }

    /** The connection id of this client id's current entry, or 0 when there is none. */
    public long connectionIdOf(String clientId) {
        Entry e = byClientId.get(clientId);
        return e == null ? 0 : e.connectionId;
    }

    /** True when this client id is connected here (authenticated) right now. */
    public boolean isConnected(String clientId) {
        Entry e = byClientId.get(clientId);
        if (e == null) return false;
        synchronized (e) {
            return e.authenticated;
        }
    }

    /** Connection id of an entry recovered by {@link #reconcile}, whose CONNECT the agent never saw. */
    static final long RECOVERED = -1;

    /**
     * Brings the registry in line with HiveMQ's own list of connected clients (client id →
     * session expiry). Lifecycle callbacks run on a pool, and an ordering the registry does
     * not handle can leave a connected client unlisted or a gone one listed; this repairs
     * both. Entries younger than {@code settleMs} are left alone: their events may still be
     * on their way. A recovered client is listed with mqttVersion 0 (unknown) and the time
     * it was recovered. Returns how many entries were repaired.
     */
    public int reconcile(Map<String, Long> connected, long nowMs, long settleMs) {
        int repaired = 0;
        for (Map.Entry<String, Long> c : connected.entrySet()) {
            Entry e = byClientId.get(c.getKey());
            if (e == null) {
                long expiry = c.getValue();
                Entry recovered = new Entry(RECOVERED, 0, expiry == 0, expiry, nowMs);
                recovered.authenticated = true;
                if (byClientId.putIfAbsent(c.getKey(), recovered) == null) repaired++;
                continue;
            }
            synchronized (e) {
                if (!e.authenticated && nowMs - e.connectedSinceMs >= settleMs) {
                    e.authenticated = true;
                    repaired++;
                }
            }
        }
        for (Map.Entry<String, Entry> me : byClientId.entrySet()) {
            Entry e = me.getValue();
            if (connected.containsKey(me.getKey()) || nowMs - e.connectedSinceMs < settleMs) continue;
            if (byClientId.remove(me.getKey(), e)) repaired++;
        }
        return repaired;
    }

    /** At most {@code limit} connected clients, and the number connected in all. */
    public ClientList list(int limit) {
        List<ClientView> page = new ArrayList<>(Math.min(limit, 1024));
        int total = 0;
        for (Map.Entry<String, Entry> me : byClientId.entrySet()) {
            Entry e = me.getValue();
            synchronized (e) {
                if (!e.authenticated) continue;
                total++;
                if (page.size() < limit) page.add(e.view(me.getKey()));
            }
        }
        return new ClientList(total, page);
    }

    private Entry current(String clientId, long connectionId) {
        Entry e = byClientId.get(clientId);
        return e != null && e.connectionId == connectionId ? e : null;
    }

    /** One connection's state; fields other than the finals are guarded by the entry's monitor. */
    private static final class Entry {
        final long connectionId;
        final int mqttVersion;
        final boolean cleanStart;
        final long sessionExpirySec;
        final long connectedSinceMs;
        boolean authenticated;
        final Set<String> sharedFilters = new HashSet<>(2);
        final Set<String> removedFilters = new HashSet<>(2);
        final Map<Integer, List<String>> pending = new HashMap<>(2);

        Entry(long connectionId, int mqttVersion, boolean cleanStart, long sessionExpirySec, long connectedSinceMs) {
            this.connectionId = connectionId;
            this.mqttVersion = mqttVersion;
            this.cleanStart = cleanStart;
            this.sessionExpirySec = sessionExpirySec;
            this.connectedSinceMs = connectedSinceMs;
        }

        ClientView view(String clientId) {
            return new ClientView(clientId, mqttVersion, cleanStart, sessionExpirySec, !sharedFilters.isEmpty(), connectedSinceMs);
        }
    }
}
