package io.mqttxds.agent.hivemq;

import com.hivemq.extension.sdk.api.client.parameter.ConnectionAttributeStore;
import com.hivemq.extension.sdk.api.events.client.ClientLifecycleEventListener;
import com.hivemq.extension.sdk.api.events.client.parameters.AuthenticationSuccessfulInput;
import com.hivemq.extension.sdk.api.events.client.parameters.ConnectionStartInput;
import com.hivemq.extension.sdk.api.events.client.parameters.DisconnectEventInput;
import com.hivemq.extension.sdk.api.interceptor.suback.SubackOutboundInterceptor;
import com.hivemq.extension.sdk.api.interceptor.suback.parameter.SubackOutboundInput;
import com.hivemq.extension.sdk.api.interceptor.suback.parameter.SubackOutboundOutput;
import com.hivemq.extension.sdk.api.interceptor.subscribe.SubscribeInboundInterceptor;
import com.hivemq.extension.sdk.api.interceptor.subscribe.parameter.SubscribeInboundInput;
import com.hivemq.extension.sdk.api.interceptor.subscribe.parameter.SubscribeInboundOutput;
import com.hivemq.extension.sdk.api.interceptor.unsubscribe.UnsubscribeInboundInterceptor;
import com.hivemq.extension.sdk.api.interceptor.unsubscribe.parameter.UnsubscribeInboundInput;
import com.hivemq.extension.sdk.api.interceptor.unsubscribe.parameter.UnsubscribeInboundOutput;
import com.hivemq.extension.sdk.api.packets.connect.ConnectPacket;
import com.hivemq.extension.sdk.api.packets.general.MqttVersion;
import com.hivemq.extension.sdk.api.packets.subscribe.SubackReasonCode;
import com.hivemq.extension.sdk.api.packets.subscribe.Subscription;
import com.hivemq.extension.sdk.api.parameter.ClientBasedInput;
import com.hivemq.extension.sdk.api.services.subscription.SubscriptionStore;
import com.hivemq.extension.sdk.api.services.subscription.TopicSubscription;
import io.mqttxds.agent.clients.ClientRegistry;
import io.mqttxds.agent.clients.SharedFilters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Feeds HiveMQ's client events into the {@link ClientRegistry}. One stateless instance
 * serves as the lifecycle listener and as the SUBSCRIBE, SUBACK and UNSUBSCRIBE interceptor
 * of every client. These run on HiveMQ's extension executor in order per client, so the
 * start of a connection is seen before its packets. None of this may throw into HiveMQ:
 * a failing interceptor would affect the client, so failures are logged and ignored.
 *
 * <p>Why interceptors and not the subscription store alone: reading the store for every
 * client on each GET clients would cost one lookup per client per poll; the packets tell
 * us the same thing as it happens, and the store is read only when a session resumes.
 */
public final class ClientEvents implements ClientLifecycleEventListener, SubscribeInboundInterceptor,
        SubackOutboundInterceptor, UnsubscribeInboundInterceptor {
    /** Connection attribute holding the id this agent gave the connection (8 bytes, big-endian). */
    static final String CONNECTION_ID_KEY = "io.mqttxds.agent.connection-id";
    /** MQTT 3 without clean session: the session never expires (MQTT 5's 0xFFFFFFFF). */
    static final long NEVER_EXPIRES = 4_294_967_295L;

    private static final Logger log = LoggerFactory.getLogger(ClientEvents.class);

    private final ClientRegistry registry;
    private final SubscriptionStore subscriptionStore;
    private final LongSupplier clockMs;
    private final AtomicLong nextConnectionId = new AtomicLong();
    /** How long after a resumed session's first empty (or failed) subscription read it is read again. */
    static final long SEED_RETRY_MS = 500;

    public ClientEvents(ClientRegistry registry, SubscriptionStore subscriptionStore, LongSupplier clockMs) {
        this.registry = registry;
        this.subscriptionStore = subscriptionStore;
        this.clockMs = clockMs;
    }

    @Override
    public void onMqttConnectionStart(ConnectionStartInput input) {
        try {
            long id = nextConnectionId.incrementAndGet();
            ConnectPacket connect = input.getConnectPacket();
            int version = protocolLevel(connect.getMqttVersion());
            boolean cleanStart = connect.getCleanStart();
            // The entry first, then the id other callbacks look it up by: these callbacks run
            // on a pool, and one that saw the id before the entry existed lost its update.
            boolean seed = registry.connectionStarted(clientId(input), id, version, cleanStart,
                    sessionExpirySec(version, cleanStart, connect.getSessionExpiryInterval()), clockMs.getAsLong());
            attributes(input).put(CONNECTION_ID_KEY, ByteBuffer.allocate(Long.BYTES).putLong(0, id));
            if (seed) seedSharedFilters(clientId(input), id);
        } catch (RuntimeException e) {
            log.warn("mqtt-xds agent: could not record the connection of client {}", clientId(input), e);
        }
    }

    @Override
    public void onAuthenticationSuccessful(AuthenticationSuccessfulInput input) {
        try {
            long id = connectionId(input);
            if (id == 0) {
                if (registry.authenticatedBeforeStart(clientId(input))) seedSharedFilters(clientId(input), registry.connectionIdOf(clientId(input)));
            } else if (registry.authenticated(clientId(input), id)) {
                seedSharedFilters(clientId(input), id);
            }
        } catch (RuntimeException e) {
            log.warn("mqtt-xds agent: could not record the authentication of client {}", clientId(input), e);
        }
    }

    @Override
    public void onDisconnect(DisconnectEventInput input) {
        try {
            long id = connectionId(input);
            if (id != 0) registry.disconnected(clientId(input), id);
            else registry.disconnectedBeforeStart(clientId(input));
        } catch (RuntimeException e) {
            log.warn("mqtt-xds agent: could not record the disconnect of client {}", clientId(input), e);
        }
    }

    @Override
    public void onInboundSubscribe(SubscribeInboundInput input, SubscribeInboundOutput output) {
        try {
            long id = connectionId(input);
            if (id == 0) return;
            List<String> filters = input.getSubscribePacket().getSubscriptions().stream()
                    .map(Subscription::getTopicFilter).collect(Collectors.toList());
            registry.subscribeReceived(clientId(input), id, input.getSubscribePacket().getPacketId(), filters);
        } catch (RuntimeException e) {
            log.warn("mqtt-xds agent: could not read a SUBSCRIBE of client {}", clientId(input), e);
        }
    }

    @Override
    public void onOutboundSuback(SubackOutboundInput input, SubackOutboundOutput output) {
        try {
            long id = connectionId(input);
            if (id == 0) return;
            List<Boolean> granted = new ArrayList<>();
            for (SubackReasonCode code : input.getSubackPacket().getReasonCodes()) granted.add(isGranted(code));
            registry.subackSent(clientId(input), id, input.getSubackPacket().getPacketIdentifier(), granted);
        } catch (RuntimeException e) {
            log.warn("mqtt-xds agent: could not read a SUBACK to client {}", clientId(input), e);
        }
    }

    @Override
    public void onInboundUnsubscribe(UnsubscribeInboundInput input, UnsubscribeInboundOutput output) {
        try {
            long id = connectionId(input);
            if (id != 0) registry.unsubscribeReceived(clientId(input), id, input.getUnsubscribePacket().getTopicFilters());
        } catch (RuntimeException e) {
            log.warn("mqtt-xds agent: could not read an UNSUBSCRIBE of client {}", clientId(input), e);
        }
    }

    /**
     * A resumed session keeps its subscriptions without a SUBSCRIBE: read them from the store.
     * A read that fails, or finds nothing while the session is being resumed, is tried again
     * once after {@link #SEED_RETRY_MS}, as long as this connection is still the client's.
     */
    private void seedSharedFilters(String clientId, long id) {
        seedSharedFilters(clientId, id, true);
    }

    private void seedSharedFilters(String clientId, long id, boolean mayRetry) {
        subscriptionStore.getSubscriptions(clientId).whenComplete((subscriptions, error) -> {
            List<String> shared = error != null ? List.of() : subscriptions.stream().map(TopicSubscription::getTopicFilter)
                    .filter(SharedFilters::isShared).collect(Collectors.toList());
            if (!shared.isEmpty()) {
                registry.seedSharedFilters(clientId, id, shared);
            } else if (mayRetry && registry.connectionIdOf(clientId) == id) {
                CompletableFuture.delayedExecutor(SEED_RETRY_MS, TimeUnit.MILLISECONDS)
                        .execute(() -> seedSharedFilters(clientId, id, false));
            } else if (error != null) {
                log.warn("mqtt-xds agent: could not read the subscriptions of resumed client {}; it is listed as "
                        + "sharedSubscriber=false until it subscribes again: {}", clientId, error.toString());
            }
        });
    }

    static int protocolLevel(MqttVersion version) {
        switch (version) {
            case V_3_1:
                return 3;
            case V_3_1_1:
                return 4;
            case V_5:
                return 5;
            default:
                throw new IllegalArgumentException("unknown MQTT version " + version);
        }
    }

    /** docs/agent-api.md: MQTT 5 reports the interval the client asked for; MQTT 3 has only clean session. */
    static long sessionExpirySec(int protocolLevel, boolean cleanStart, long requestedSec) {
        if (protocolLevel == 5) return requestedSec;
        return cleanStart ? 0 : NEVER_EXPIRES;
    }

    static boolean isGranted(SubackReasonCode code) {
        return code == SubackReasonCode.GRANTED_QOS_0 || code == SubackReasonCode.GRANTED_QOS_1
                || code == SubackReasonCode.GRANTED_QOS_2;
    }

    private static String clientId(ClientBasedInput input) {
        return input.getClientInformation().getClientId();
    }

    private static ConnectionAttributeStore attributes(ClientBasedInput input) {
        return input.getConnectionInformation().getConnectionAttributeStore();
    }

    /** The id given at connection start, or 0 for a connection that started before the agent did. */
    private static long connectionId(ClientBasedInput input) {
        Optional<ByteBuffer> value = attributes(input).get(CONNECTION_ID_KEY);
        return value.filter(b -> b.remaining() >= Long.BYTES).map(b -> b.getLong(b.position())).orElse(0L);
    }
}
