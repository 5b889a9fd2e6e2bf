import * as $protobuf from "protobufjs";
import Long = require("long");

/** Namespace dnstap. */
export namespace dnstap {

    /**
     * Properties of a Dnstap.
     * @deprecated Use dnstap.Dnstap.$Properties instead.
     */
    interface IDnstap extends dnstap.Dnstap.$Properties {
    }

    /** Represents a Dnstap. */
    class Dnstap {

        /**
         * Constructs a new Dnstap.
         * @param [properties] Properties to set
         */
        constructor(properties?: dnstap.Dnstap.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** Dnstap identity. */
        identity: Uint8Array;

        /** Dnstap version. */
        version: Uint8Array;

        /** Dnstap extra. */
        extra: Uint8Array;

        /** Dnstap type. */
        type: dnstap.Dnstap.Type;

        /** Dnstap message. */
        message?: (dnstap.Message.$Properties|null);

        /**
         * Creates a new Dnstap instance using the specified properties.
         * @param [properties] Properties to set
         * @returns Dnstap instance
         */
        static create(properties: dnstap.Dnstap.$Shape): dnstap.Dnstap & dnstap.Dnstap.$Shape;
        static create(properties?: dnstap.Dnstap.$Properties): dnstap.Dnstap;

        /**
         * Encodes the specified Dnstap message. Does not implicitly {@link dnstap.Dnstap.verify|verify} messages.
         * @param message Dnstap message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: dnstap.Dnstap.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a Dnstap message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {dnstap.Dnstap & dnstap.Dnstap.$Shape} Dnstap
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): dnstap.Dnstap & dnstap.Dnstap.$Shape;

        /**
         * Creates a Dnstap message from a plain object. Also converts values to their respective internal types.
         * @param object Plain object
         * @returns Dnstap
         */
        static fromObject(object: { [k: string]: any }): dnstap.Dnstap;

        /**
         * Creates a plain object from a Dnstap message. Also converts values to other types if specified.
         * @param message Dnstap
         * @param [options] Conversion options
         * @returns Plain object
         */
        static toObject(message: dnstap.Dnstap, options?: $protobuf.IConversionOptions): { [k: string]: any };

        /**
         * Converts this Dnstap to JSON.
         * @returns JSON object
         */
        toJSON(): { [k: string]: any };

        /**
         * Gets the type url for Dnstap
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace Dnstap {

        /** Properties of a Dnstap. */
        interface $Properties {

            /** Dnstap identity */
            identity?: (Uint8Array|null);

            /** Dnstap version */
            version?: (Uint8Array|null);

            /** Dnstap extra */
            extra?: (Uint8Array|null);

            /** Dnstap type */
            type: dnstap.Dnstap.Type;

            /** Dnstap message */
            message?: (dnstap.Message.$Properties|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a Dnstap. */
        type $Shape = dnstap.Dnstap.$Properties;

        /** Type enum. */
        enum Type {

            /** MESSAGE value */
            MESSAGE = 1
        }
    }

    /** SocketFamily enum. */
    enum SocketFamily {

        /** INET value */
        INET = 1,

        /** INET6 value */
        INET6 = 2
    }

    /** SocketProtocol enum. */
    enum SocketProtocol {

        /** UDP value */
        UDP = 1,

        /** TCP value */
        TCP = 2,

        /** DOT value */
        DOT = 3,

        /** DOH value */
        DOH = 4,

        /** DNSCryptUDP value */
        DNSCryptUDP = 5,

        /** DNSCryptTCP value */
        DNSCryptTCP = 6,

        /** DOQ value */
        DOQ = 7
    }

    /** HttpProtocol enum. */
    enum HttpProtocol {

        /** HTTP1 value */
        HTTP1 = 1,

        /** HTTP2 value */
        HTTP2 = 2,

        /** HTTP3 value */
        HTTP3 = 3
    }

    /**
     * Properties of a Policy.
     * @deprecated Use dnstap.Policy.$Properties instead.
     */
    interface IPolicy extends dnstap.Policy.$Properties {
    }

    /** Represents a Policy. */
    class Policy {

        /**
         * Constructs a new Policy.
         * @param [properties] Properties to set
         */
        constructor(properties?: dnstap.Policy.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** Policy type. */
        type: string;

        /** Policy rule. */
        rule: Uint8Array;

        /** Policy action. */
        action: dnstap.Policy.Action;

        /** Policy match. */
        match: dnstap.Policy.Match;

        /** Policy value. */
        value: Uint8Array;

        /**
         * Creates a new Policy instance using the specified properties.
         * @param [properties] Properties to set
         * @returns Policy instance
         */
        static create(properties: dnstap.Policy.$Shape): dnstap.Policy & dnstap.Policy.$Shape;
        static create(properties?: dnstap.Policy.$Properties): dnstap.Policy;

        /**
         * Encodes the specified Policy message. Does not implicitly {@link dnstap.Policy.verify|verify} messages.
         * @param message Policy message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: dnstap.Policy.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a Policy message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {dnstap.Policy & dnstap.Policy.$Shape} Policy
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): dnstap.Policy & dnstap.Policy.$Shape;

        /**
         * Creates a Policy message from a plain object. Also converts values to their respective internal types.
         * @param object Plain object
         * @returns Policy
         */
        static fromObject(object: { [k: string]: any }): dnstap.Policy;

        /**
         * Creates a plain object from a Policy message. Also converts values to other types if specified.
         * @param message Policy
         * @param [options] Conversion options
         * @returns Plain object
         */
        static toObject(message: dnstap.Policy, options?: $protobuf.IConversionOptions): { [k: string]: any };

        /**
         * Converts this Policy to JSON.
         * @returns JSON object
         */
        toJSON(): { [k: string]: any };

        /**
         * Gets the type url for Policy
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace Policy {

        /** Properties of a Policy. */
        interface $Properties {

            /** Policy type */
            type?: (string|null);

            /** Policy rule */
            rule?: (Uint8Array|null);

            /** Policy action */
            action?: (dnstap.Policy.Action|null);

            /** Policy match */
            match?: (dnstap.Policy.Match|null);

            /** Policy value */
            value?: (Uint8Array|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a Policy. */
        type $Shape = dnstap.Policy.$Properties;

        /** Match enum. */
        enum Match {

            /** QNAME value */
            QNAME = 1,

            /** CLIENT_IP value */
            CLIENT_IP = 2,

            /** RESPONSE_IP value */
            RESPONSE_IP = 3,

            /** NS_NAME value */
            NS_NAME = 4,

            /** NS_IP value */
            NS_IP = 5
        }

        /** Action enum. */
        enum Action {

            /** NXDOMAIN value */
            NXDOMAIN = 1,

            /** NODATA value */
            NODATA = 2,

            /** PASS value */
            PASS = 3,

            /** DROP value */
            DROP = 4,

            /** TRUNCATE value */
            TRUNCATE = 5,

            /** LOCAL_DATA value */
            LOCAL_DATA = 6
        }
    }

    /**
     * Properties of a Message.
     * @deprecated Use dnstap.Message.$Properties instead.
     */
    interface IMessage extends dnstap.Message.$Properties {
    }

    /** Represents a Message. */
    class Message {

        /**
         * Constructs a new Message.
         * @param [properties] Properties to set
         */
        constructor(properties?: dnstap.Message.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** Message type. */
        type: dnstap.Message.Type;

        /** Message socketFamily. */
        socketFamily: dnstap.SocketFamily;

        /** Message socketProtocol. */
        socketProtocol: dnstap.SocketProtocol;

        /** Message queryAddress. */
        queryAddress: Uint8Array;

        /** Message responseAddress. */
        responseAddress: Uint8Array;

        /** Message queryPort. */
        queryPort: number;

        /** Message responsePort. */
        responsePort: number;

        /** Message queryTimeSec. */
        queryTimeSec: (number|Long);

        /** Message queryTimeNsec. */
        queryTimeNsec: number;

        /** Message queryMessage. */
        queryMessage: Uint8Array;

        /** Message queryZone. */
        queryZone: Uint8Array;

        /** Message responseTimeSec. */
        responseTimeSec: (number|Long);

        /** Message responseTimeNsec. */
        responseTimeNsec: number;

        /** Message responseMessage. */
        responseMessage: Uint8Array;

        /** Message policy. */
        policy?: (dnstap.Policy.$Properties|null);

        /** Message httpProtocol. */
        httpProtocol: dnstap.HttpProtocol;

        /**
         * Creates a new Message instance using the specified properties.
         * @param [properties] Properties to set
         * @returns Message instance
         */
        static create(properties: dnstap.Message.$Shape): dnstap.Message & dnstap.Message.$Shape;
        static create(properties?: dnstap.Message.$Properties): dnstap.Message;

        /**
         * Encodes the specified Message message. Does not implicitly {@link dnstap.Message.verify|verify} messages.
         * @param message Message message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: dnstap.Message.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a Message message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {dnstap.Message & dnstap.Message.$Shape} Message
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): dnstap.Message & dnstap.Message.$Shape;

        /**
         * Creates a Message message from a plain object. Also converts values to their respective internal types.
         * @param object Plain object
         * @returns Message
         */
        static fromObject(object: { [k: string]: any }): dnstap.Message;

        /**
         * Creates a plain object from a Message message. Also converts values to other types if specified.
         * @param message Message
         * @param [options] Conversion options
         * @returns Plain object
         */
        static toObject(message: dnstap.Message, options?: $protobuf.IConversionOptions): { [k: string]: any };

        /**
         * Converts this Message to JSON.
         * @returns JSON object
         */
        toJSON(): { [k: string]: any };

        /**
         * Gets the type url for Message
         * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns The type url
         */
        static getTypeUrl(prefix?: string): string;
    }

    namespace Message {

        /** Properties of a Message. */
        interface $Properties {

            /** Message type */
            type: dnstap.Message.Type;

            /** Message socketFamily */
            socketFamily?: (dnstap.SocketFamily|null);

            /** Message socketProtocol */
            socketProtocol?: (dnstap.SocketProtocol|null);

            /** Message queryAddress */
            queryAddress?: (Uint8Array|null);

            /** Message responseAddress */
            responseAddress?: (Uint8Array|null);

            /** Message queryPort */
            queryPort?: (number|null);

            /** Message responsePort */
            responsePort?: (number|null);

            /** Message queryTimeSec */
            queryTimeSec?: (number|Long|null);

            /** Message queryTimeNsec */
            queryTimeNsec?: (number|null);

            /** Message queryMessage */
            queryMessage?: (Uint8Array|null);

            /** Message queryZone */
            queryZone?: (Uint8Array|null);

            /** Message responseTimeSec */
            responseTimeSec?: (number|Long|null);

            /** Message responseTimeNsec */
            responseTimeNsec?: (number|null);

            /** Message responseMessage */
            responseMessage?: (Uint8Array|null);

            /** Message policy */
            policy?: (dnstap.Policy.$Properties|null);

            /** Message httpProtocol */
            httpProtocol?: (dnstap.HttpProtocol|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a Message. */
        type $Shape = dnstap.Message.$Properties;

        /** Type enum. */
        enum Type {

            /** AUTH_QUERY value */
            AUTH_QUERY = 1,

            /** AUTH_RESPONSE value */
            AUTH_RESPONSE = 2,

            /** RESOLVER_QUERY value */
            RESOLVER_QUERY = 3,

            /** RESOLVER_RESPONSE value */
            RESOLVER_RESPONSE = 4,

            /** CLIENT_QUERY value */
            CLIENT_QUERY = 5,

            /** CLIENT_RESPONSE value */
            CLIENT_RESPONSE = 6,

            /** FORWARDER_QUERY value */
            FORWARDER_QUERY = 7,

            /** FORWARDER_RESPONSE value */
            FORWARDER_RESPONSE = 8,

            /** STUB_QUERY value */
            STUB_QUERY = 9,

            /** STUB_RESPONSE value */
            STUB_RESPONSE = 10,

            /** TOOL_QUERY value */
            TOOL_QUERY = 11,

            /** TOOL_RESPONSE value */
            TOOL_RESPONSE = 12,

            /** UPDATE_QUERY value */
            UPDATE_QUERY = 13,

            /** UPDATE_RESPONSE value */
            UPDATE_RESPONSE = 14
        }
    }
}
