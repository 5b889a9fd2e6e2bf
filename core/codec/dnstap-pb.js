/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-mixed-operators, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars, default-case, jsdoc/require-param*/
import $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;
const $Object = $util.global.Object, $undefined = $util.global.undefined, $Error = $util.global.Error, $RangeError = $util.global.RangeError, $TypeError = $util.global.TypeError, $String = $util.global.String, $Array = $util.global.Array, $parseInt = $util.global.parseInt, $Number = $util.global.Number, $BigInt = $util.global.BigInt;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const dnstap = $root.dnstap = (() => {

    /**
     * Namespace dnstap.
     * @exports dnstap
     * @namespace
     */
    const dnstap = {};

    dnstap.Dnstap = (function() {

        /**
         * Properties of a Dnstap.
         * @typedef {Object} dnstap.Dnstap.$Properties
         * @property {Uint8Array|null} [identity] Dnstap identity
         * @property {Uint8Array|null} [version] Dnstap version
         * @property {Uint8Array|null} [extra] Dnstap extra
         * @property {dnstap.Dnstap.Type} type Dnstap type
         * @property {dnstap.Message.$Properties|null} [message] Dnstap message
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a Dnstap.
         * @memberof dnstap
         * @interface IDnstap
         * @augments dnstap.Dnstap.$Properties
         * @deprecated Use dnstap.Dnstap.$Properties instead.
         */

        /**
         * Shape of a Dnstap.
         * @typedef {dnstap.Dnstap.$Properties} dnstap.Dnstap.$Shape
         */

        /**
         * Constructs a new Dnstap.
         * @memberof dnstap
         * @classdesc Represents a Dnstap.
         * @constructor
         * @param {dnstap.Dnstap.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const Dnstap = function (properties) {
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * Dnstap identity.
         * @member {Uint8Array} identity
         * @memberof dnstap.Dnstap
         * @instance
         */
        Dnstap.prototype.identity = $util.newBuffer([]);

        /**
         * Dnstap version.
         * @member {Uint8Array} version
         * @memberof dnstap.Dnstap
         * @instance
         */
        Dnstap.prototype.version = $util.newBuffer([]);

        /**
         * Dnstap extra.
         * @member {Uint8Array} extra
         * @memberof dnstap.Dnstap
         * @instance
         */
        Dnstap.prototype.extra = $util.newBuffer([]);

        /**
         * Dnstap type.
         * @member {dnstap.Dnstap.Type} type
         * @memberof dnstap.Dnstap
         * @instance
         */
        Dnstap.prototype.type = 1;

        /**
         * Dnstap message.
         * @member {dnstap.Message.$Properties|null|undefined} message
         * @memberof dnstap.Dnstap
         * @instance
         */
        Dnstap.prototype.message = null;

        /**
         * Creates a new Dnstap instance using the specified properties.
         * @function create
         * @memberof dnstap.Dnstap
         * @static
         * @param {dnstap.Dnstap.$Properties=} [properties] Properties to set
         * @returns {dnstap.Dnstap} Dnstap instance
         * @type {{
         *   (properties: dnstap.Dnstap.$Shape): dnstap.Dnstap & dnstap.Dnstap.$Shape;
         *   (properties?: dnstap.Dnstap.$Properties): dnstap.Dnstap;
         * }}
         */
        Dnstap.create = function(properties) {
            return new Dnstap(properties);
        };

        /**
         * Encodes the specified Dnstap message. Does not implicitly {@link dnstap.Dnstap.verify|verify} messages.
         * @function encode
         * @memberof dnstap.Dnstap
         * @static
         * @param {dnstap.Dnstap.$Properties} message Dnstap message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Dnstap.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.identity != null && $Object.hasOwnProperty.call(message, "identity"))
                writer.uint32(/* id 1, wireType 2 =*/10).bytes(message.identity);
            if (message.version != null && $Object.hasOwnProperty.call(message, "version"))
                writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.version);
            if (message.extra != null && $Object.hasOwnProperty.call(message, "extra"))
                writer.uint32(/* id 3, wireType 2 =*/26).bytes(message.extra);
            if (message.message != null && $Object.hasOwnProperty.call(message, "message"))
                $root.dnstap.Message.encode(message.message, writer.uint32(/* id 14, wireType 2 =*/114).fork(), _depth + 1).ldelim();
            writer.uint32(/* id 15, wireType 0 =*/120).int32(message.type);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a Dnstap message from the specified reader or buffer.
         * @function decode
         * @memberof dnstap.Dnstap
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {dnstap.Dnstap & dnstap.Dnstap.$Shape} Dnstap
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Dnstap.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.dnstap.Dnstap();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        message.identity = reader.bytes();
                        continue;
                    }
                case 2: {
                        if (wireType !== 2)
                            break;
                        message.version = reader.bytes();
                        continue;
                    }
                case 3: {
                        if (wireType !== 2)
                            break;
                        message.extra = reader.bytes();
                        continue;
                    }
                case 15: {
                        if (wireType !== 0)
                            break;
                        value = reader.int32();
                        if ($root.dnstap.Dnstap.Type[value] !== $undefined)
                            message.type = value;
                        else if (!reader.discardUnknown) {
                            $util.makeProp(message, "$unknowns", false);
                            (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                        }
                        continue;
                    }
                case 14: {
                        if (wireType !== 2)
                            break;
                        message.message = $root.dnstap.Message.decode(reader, reader.size(), $undefined, _depth + 1, message.message);
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            if (!$Object.hasOwnProperty.call(message, "type"))
                throw $util.ProtocolError("missing required 'type'", { instance: message });
            return message;
        };

        /**
         * Creates a Dnstap message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof dnstap.Dnstap
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {dnstap.Dnstap} Dnstap
         */
        Dnstap.fromObject = function (object, _depth) {
            if (object instanceof $root.dnstap.Dnstap)
                return object;
            if (!$util.isObject(object))
                throw $TypeError(".dnstap.Dnstap: object expected");
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            let message = new $root.dnstap.Dnstap();
            if (object.identity != null)
                if (typeof object.identity === "string")
                    $util.base64.decode(object.identity, message.identity = $util.newBuffer($util.base64.length(object.identity)), 0);
                else if (object.identity.length >= 0)
                    message.identity = object.identity;
            if (object.version != null)
                if (typeof object.version === "string")
                    $util.base64.decode(object.version, message.version = $util.newBuffer($util.base64.length(object.version)), 0);
                else if (object.version.length >= 0)
                    message.version = object.version;
            if (object.extra != null)
                if (typeof object.extra === "string")
                    $util.base64.decode(object.extra, message.extra = $util.newBuffer($util.base64.length(object.extra)), 0);
                else if (object.extra.length >= 0)
                    message.extra = object.extra;
            switch (object.type) {
            case "MESSAGE":
            case 1:
                message.type = 1;
                break;
            default:
            }
            if (object.message != null) {
                if (!$util.isObject(object.message))
                    throw $TypeError(".dnstap.Dnstap.message: object expected");
                message.message = $root.dnstap.Message.fromObject(object.message, _depth + 1);
            }
            return message;
        };

        /**
         * Creates a plain object from a Dnstap message. Also converts values to other types if specified.
         * @function toObject
         * @memberof dnstap.Dnstap
         * @static
         * @param {dnstap.Dnstap} message Dnstap
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        Dnstap.toObject = function (message, options, _depth) {
            if (!options)
                options = {};
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                if (options.bytes === $String)
                    object.identity = "";
                else {
                    object.identity = [];
                    if (options.bytes !== $Array)
                        object.identity = $util.newBuffer(object.identity);
                }
                if (options.bytes === $String)
                    object.version = "";
                else {
                    object.version = [];
                    if (options.bytes !== $Array)
                        object.version = $util.newBuffer(object.version);
                }
                if (options.bytes === $String)
                    object.extra = "";
                else {
                    object.extra = [];
                    if (options.bytes !== $Array)
                        object.extra = $util.newBuffer(object.extra);
                }
                object.message = null;
                object.type = options.enums === $String ? "MESSAGE" : 1;
            }
            if (message.identity != null && $Object.hasOwnProperty.call(message, "identity"))
                object.identity = options.bytes === $String ? $util.base64.encode(message.identity, 0, message.identity.length) : options.bytes === $Array ? $Array.prototype.slice.call(message.identity) : message.identity;
            if (message.version != null && $Object.hasOwnProperty.call(message, "version"))
                object.version = options.bytes === $String ? $util.base64.encode(message.version, 0, message.version.length) : options.bytes === $Array ? $Array.prototype.slice.call(message.version) : message.version;
            if (message.extra != null && $Object.hasOwnProperty.call(message, "extra"))
                object.extra = options.bytes === $String ? $util.base64.encode(message.extra, 0, message.extra.length) : options.bytes === $Array ? $Array.prototype.slice.call(message.extra) : message.extra;
            if (message.message != null && $Object.hasOwnProperty.call(message, "message"))
                object.message = $root.dnstap.Message.toObject(message.message, options, _depth + 1);
            if (message.type != null && $Object.hasOwnProperty.call(message, "type"))
                object.type = options.enums === $String ? $root.dnstap.Dnstap.Type[message.type] === $undefined ? message.type : $root.dnstap.Dnstap.Type[message.type] : message.type;
            return object;
        };

        /**
         * Converts this Dnstap to JSON.
         * @function toJSON
         * @memberof dnstap.Dnstap
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        Dnstap.prototype.toJSON = function() {
            return Dnstap.toObject(this, $protobuf.util.toJSONOptions);
        };

        /**
         * Gets the type url for Dnstap
         * @function getTypeUrl
         * @memberof dnstap.Dnstap
         * @static
         * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns {string} The type url
         */
        Dnstap.getTypeUrl = function(prefix) {
            if (prefix === $undefined)
                prefix = "type.googleapis.com";
            return prefix + "/dnstap.Dnstap";
        };

        /**
         * Type enum.
         * @name dnstap.Dnstap.Type
         * @enum {number}
         * @property {number} MESSAGE=1 MESSAGE value
         */
        Dnstap.Type = (function() {
            const valuesById = $Object.create(null), values = $Object.create(valuesById);
            values[valuesById[1] = "MESSAGE"] = 1;
            return values;
        })();

        return Dnstap;
    })();

    /**
     * SocketFamily enum.
     * @name dnstap.SocketFamily
     * @enum {number}
     * @property {number} INET=1 INET value
     * @property {number} INET6=2 INET6 value
     */
    dnstap.SocketFamily = (function() {
        const valuesById = $Object.create(null), values = $Object.create(valuesById);
        values[valuesById[1] = "INET"] = 1;
        values[valuesById[2] = "INET6"] = 2;
        return values;
    })();

    /**
     * SocketProtocol enum.
     * @name dnstap.SocketProtocol
     * @enum {number}
     * @property {number} UDP=1 UDP value
     * @property {number} TCP=2 TCP value
     * @property {number} DOT=3 DOT value
     * @property {number} DOH=4 DOH value
     * @property {number} DNSCryptUDP=5 DNSCryptUDP value
     * @property {number} DNSCryptTCP=6 DNSCryptTCP value
     * @property {number} DOQ=7 DOQ value
     */
    dnstap.SocketProtocol = (function() {
        const valuesById = $Object.create(null), values = $Object.create(valuesById);
        values[valuesById[1] = "UDP"] = 1;
        values[valuesById[2] = "TCP"] = 2;
        values[valuesById[3] = "DOT"] = 3;
        values[valuesById[4] = "DOH"] = 4;
        values[valuesById[5] = "DNSCryptUDP"] = 5;
        values[valuesById[6] = "DNSCryptTCP"] = 6;
        values[valuesById[7] = "DOQ"] = 7;
        return values;
    })();

    /**
     * HttpProtocol enum.
     * @name dnstap.HttpProtocol
     * @enum {number}
     * @property {number} HTTP1=1 HTTP1 value
     * @property {number} HTTP2=2 HTTP2 value
     * @property {number} HTTP3=3 HTTP3 value
     */
    dnstap.HttpProtocol = (function() {
        const valuesById = $Object.create(null), values = $Object.create(valuesById);
        values[valuesById[1] = "HTTP1"] = 1;
        values[valuesById[2] = "HTTP2"] = 2;
        values[valuesById[3] = "HTTP3"] = 3;
        return values;
    })();

    dnstap.Policy = (function() {

        /**
         * Properties of a Policy.
         * @typedef {Object} dnstap.Policy.$Properties
         * @property {string|null} [type] Policy type
         * @property {Uint8Array|null} [rule] Policy rule
         * @property {dnstap.Policy.Action|null} [action] Policy action
         * @property {dnstap.Policy.Match|null} [match] Policy match
         * @property {Uint8Array|null} [value] Policy value
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a Policy.
         * @memberof dnstap
         * @interface IPolicy
         * @augments dnstap.Policy.$Properties
         * @deprecated Use dnstap.Policy.$Properties instead.
         */

        /**
         * Shape of a Policy.
         * @typedef {dnstap.Policy.$Properties} dnstap.Policy.$Shape
         */

        /**
         * Constructs a new Policy.
         * @memberof dnstap
         * @classdesc Represents a Policy.
         * @constructor
         * @param {dnstap.Policy.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const Policy = function (properties) {
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * Policy type.
         * @member {string} type
         * @memberof dnstap.Policy
         * @instance
         */
        Policy.prototype.type = "";

        /**
         * Policy rule.
         * @member {Uint8Array} rule
         * @memberof dnstap.Policy
         * @instance
         */
        Policy.prototype.rule = $util.newBuffer([]);

        /**
         * Policy action.
         * @member {dnstap.Policy.Action} action
         * @memberof dnstap.Policy
         * @instance
         */
        Policy.prototype.action = 1;

        /**
         * Policy match.
         * @member {dnstap.Policy.Match} match
         * @memberof dnstap.Policy
         * @instance
         */
        Policy.prototype.match = 1;

        /**
         * Policy value.
         * @member {Uint8Array} value
         * @memberof dnstap.Policy
         * @instance
         */
        Policy.prototype.value = $util.newBuffer([]);

        /**
         * Creates a new Policy instance using the specified properties.
         * @function create
         * @memberof dnstap.Policy
         * @static
         * @param {dnstap.Policy.$Properties=} [properties] Properties to set
         * @returns {dnstap.Policy} Policy instance
         * @type {{
         *   (properties: dnstap.Policy.$Shape): dnstap.Policy & dnstap.Policy.$Shape;
         *   (properties?: dnstap.Policy.$Properties): dnstap.Policy;
         * }}
         */
        Policy.create = function(properties) {
            return new Policy(properties);
        };

        /**
         * Encodes the specified Policy message. Does not implicitly {@link dnstap.Policy.verify|verify} messages.
         * @function encode
         * @memberof dnstap.Policy
         * @static
         * @param {dnstap.Policy.$Properties} message Policy message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Policy.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.type != null && $Object.hasOwnProperty.call(message, "type"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.type);
            if (message.rule != null && $Object.hasOwnProperty.call(message, "rule"))
                writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.rule);
            if (message.action != null && $Object.hasOwnProperty.call(message, "action"))
                writer.uint32(/* id 3, wireType 0 =*/24).int32(message.action);
            if (message.match != null && $Object.hasOwnProperty.call(message, "match"))
                writer.uint32(/* id 4, wireType 0 =*/32).int32(message.match);
            if (message.value != null && $Object.hasOwnProperty.call(message, "value"))
                writer.uint32(/* id 5, wireType 2 =*/42).bytes(message.value);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a Policy message from the specified reader or buffer.
         * @function decode
         * @memberof dnstap.Policy
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {dnstap.Policy & dnstap.Policy.$Shape} Policy
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Policy.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.dnstap.Policy();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        message.type = reader.string();
                        continue;
                    }
                case 2: {
                        if (wireType !== 2)
                            break;
                        message.rule = reader.bytes();
                        continue;
                    }
                case 3: {
                        if (wireType !== 0)
                            break;
                        value = reader.int32();
                        if ($root.dnstap.Policy.Action[value] !== $undefined)
                            message.action = value;
                        else if (!reader.discardUnknown) {
                            $util.makeProp(message, "$unknowns", false);
                            (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                        }
                        continue;
                    }
                case 4: {
                        if (wireType !== 0)
                            break;
                        value = reader.int32();
                        if ($root.dnstap.Policy.Match[value] !== $undefined)
                            message.match = value;
                        else if (!reader.discardUnknown) {
                            $util.makeProp(message, "$unknowns", false);
                            (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                        }
                        continue;
                    }
                case 5: {
                        if (wireType !== 2)
                            break;
                        message.value = reader.bytes();
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        /**
         * Creates a Policy message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof dnstap.Policy
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {dnstap.Policy} Policy
         */
        Policy.fromObject = function (object, _depth) {
            if (object instanceof $root.dnstap.Policy)
                return object;
            if (!$util.isObject(object))
                throw $TypeError(".dnstap.Policy: object expected");
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            let message = new $root.dnstap.Policy();
            if (object.type != null)
                message.type = $String(object.type);
            if (object.rule != null)
                if (typeof object.rule === "string")
                    $util.base64.decode(object.rule, message.rule = $util.newBuffer($util.base64.length(object.rule)), 0);
                else if (object.rule.length >= 0)
                    message.rule = object.rule;
            switch (object.action) {
            case "NXDOMAIN":
            case 1:
                message.action = 1;
                break;
            case "NODATA":
            case 2:
                message.action = 2;
                break;
            case "PASS":
            case 3:
                message.action = 3;
                break;
            case "DROP":
            case 4:
                message.action = 4;
                break;
            case "TRUNCATE":
            case 5:
                message.action = 5;
                break;
            case "LOCAL_DATA":
            case 6:
                message.action = 6;
                break;
            default:
            }
            switch (object.match) {
            case "QNAME":
            case 1:
                message.match = 1;
                break;
            case "CLIENT_IP":
            case 2:
                message.match = 2;
                break;
            case "RESPONSE_IP":
            case 3:
                message.match = 3;
                break;
            case "NS_NAME":
            case 4:
                message.match = 4;
                break;
            case "NS_IP":
            case 5:
                message.match = 5;
                break;
            default:
            }
            if (object.value != null)
                if (typeof object.value === "string")
                    $util.base64.decode(object.value, message.value = $util.newBuffer($util.base64.length(object.value)), 0);
                else if (object.value.length >= 0)
                    message.value = object.value;
            return message;
        };

        /**
         * Creates a plain object from a Policy message. Also converts values to other types if specified.
         * @function toObject
         * @memberof dnstap.Policy
         * @static
         * @param {dnstap.Policy} message Policy
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        Policy.toObject = function (message, options, _depth) {
            if (!options)
                options = {};
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.type = "";
                if (options.bytes === $String)
                    object.rule = "";
                else {
                    object.rule = [];
                    if (options.bytes !== $Array)
                        object.rule = $util.newBuffer(object.rule);
                }
                object.action = options.enums === $String ? "NXDOMAIN" : 1;
                object.match = options.enums === $String ? "QNAME" : 1;
                if (options.bytes === $String)
                    object.value = "";
                else {
                    object.value = [];
                    if (options.bytes !== $Array)
                        object.value = $util.newBuffer(object.value);
                }
            }
            if (message.type != null && $Object.hasOwnProperty.call(message, "type"))
                object.type = message.type;
            if (message.rule != null && $Object.hasOwnProperty.call(message, "rule"))
                object.rule = options.bytes === $String ? $util.base64.encode(message.rule, 0, message.rule.length) : options.bytes === $Array ? $Array.prototype.slice.call(message.rule) : message.rule;
            if (message.action != null && $Object.hasOwnProperty.call(message, "action"))
                object.action = options.enums === $String ? $root.dnstap.Policy.Action[message.action] === $undefined ? message.action : $root.dnstap.Policy.Action[message.action] : message.action;
            if (message.match != null && $Object.hasOwnProperty.call(message, "match"))
                object.match = options.enums === $String ? $root.dnstap.Policy.Match[message.match] === $undefined ? message.match : $root.dnstap.Policy.Match[message.match] : message.match;
            if (message.value != null && $Object.hasOwnProperty.call(message, "value"))
                object.value = options.bytes === $String ? $util.base64.encode(message.value, 0, message.value.length) : options.bytes === $Array ? $Array.prototype.slice.call(message.value) : message.value;
            return object;
        };

        /**
         * Converts this Policy to JSON.
         * @function toJSON
         * @memberof dnstap.Policy
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        Policy.prototype.toJSON = function() {
            return Policy.toObject(this, $protobuf.util.toJSONOptions);
        };

        /**
         * Gets the type url for Policy
         * @function getTypeUrl
         * @memberof dnstap.Policy
         * @static
         * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns {string} The type url
         */
        Policy.getTypeUrl = function(prefix) {
            if (prefix === $undefined)
                prefix = "type.googleapis.com";
            return prefix + "/dnstap.Policy";
        };

        /**
         * Match enum.
         * @name dnstap.Policy.Match
         * @enum {number}
         * @property {number} QNAME=1 QNAME value
         * @property {number} CLIENT_IP=2 CLIENT_IP value
         * @property {number} RESPONSE_IP=3 RESPONSE_IP value
         * @property {number} NS_NAME=4 NS_NAME value
         * @property {number} NS_IP=5 NS_IP value
         */
        Policy.Match = (function() {
            const valuesById = $Object.create(null), values = $Object.create(valuesById);
            values[valuesById[1] = "QNAME"] = 1;
            values[valuesById[2] = "CLIENT_IP"] = 2;
            values[valuesById[3] = "RESPONSE_IP"] = 3;
            values[valuesById[4] = "NS_NAME"] = 4;
            values[valuesById[5] = "NS_IP"] = 5;
            return values;
        })();

        /**
         * Action enum.
         * @name dnstap.Policy.Action
         * @enum {number}
         * @property {number} NXDOMAIN=1 NXDOMAIN value
         * @property {number} NODATA=2 NODATA value
         * @property {number} PASS=3 PASS value
         * @property {number} DROP=4 DROP value
         * @property {number} TRUNCATE=5 TRUNCATE value
         * @property {number} LOCAL_DATA=6 LOCAL_DATA value
         */
        Policy.Action = (function() {
            const valuesById = $Object.create(null), values = $Object.create(valuesById);
            values[valuesById[1] = "NXDOMAIN"] = 1;
            values[valuesById[2] = "NODATA"] = 2;
            values[valuesById[3] = "PASS"] = 3;
            values[valuesById[4] = "DROP"] = 4;
            values[valuesById[5] = "TRUNCATE"] = 5;
            values[valuesById[6] = "LOCAL_DATA"] = 6;
            return values;
        })();

        return Policy;
    })();

    dnstap.Message = (function() {

        /**
         * Properties of a Message.
         * @typedef {Object} dnstap.Message.$Properties
         * @property {dnstap.Message.Type} type Message type
         * @property {dnstap.SocketFamily|null} [socketFamily] Message socketFamily
         * @property {dnstap.SocketProtocol|null} [socketProtocol] Message socketProtocol
         * @property {Uint8Array|null} [queryAddress] Message queryAddress
         * @property {Uint8Array|null} [responseAddress] Message responseAddress
         * @property {number|null} [queryPort] Message queryPort
         * @property {number|null} [responsePort] Message responsePort
         * @property {number|Long|null} [queryTimeSec] Message queryTimeSec
         * @property {number|null} [queryTimeNsec] Message queryTimeNsec
         * @property {Uint8Array|null} [queryMessage] Message queryMessage
         * @property {Uint8Array|null} [queryZone] Message queryZone
         * @property {number|Long|null} [responseTimeSec] Message responseTimeSec
         * @property {number|null} [responseTimeNsec] Message responseTimeNsec
         * @property {Uint8Array|null} [responseMessage] Message responseMessage
         * @property {dnstap.Policy.$Properties|null} [policy] Message policy
         * @property {dnstap.HttpProtocol|null} [httpProtocol] Message httpProtocol
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a Message.
         * @memberof dnstap
         * @interface IMessage
         * @augments dnstap.Message.$Properties
         * @deprecated Use dnstap.Message.$Properties instead.
         */

        /**
         * Shape of a Message.
         * @typedef {dnstap.Message.$Properties} dnstap.Message.$Shape
         */

        /**
         * Constructs a new Message.
         * @memberof dnstap
         * @classdesc Represents a Message.
         * @constructor
         * @param {dnstap.Message.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const Message = function (properties) {
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * Message type.
         * @member {dnstap.Message.Type} type
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.type = 1;

        /**
         * Message socketFamily.
         * @member {dnstap.SocketFamily} socketFamily
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.socketFamily = 1;

        /**
         * Message socketProtocol.
         * @member {dnstap.SocketProtocol} socketProtocol
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.socketProtocol = 1;

        /**
         * Message queryAddress.
         * @member {Uint8Array} queryAddress
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.queryAddress = $util.newBuffer([]);

        /**
         * Message responseAddress.
         * @member {Uint8Array} responseAddress
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.responseAddress = $util.newBuffer([]);

        /**
         * Message queryPort.
         * @member {number} queryPort
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.queryPort = 0;

        /**
         * Message responsePort.
         * @member {number} responsePort
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.responsePort = 0;

        /**
         * Message queryTimeSec.
         * @member {number|Long} queryTimeSec
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.queryTimeSec = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * Message queryTimeNsec.
         * @member {number} queryTimeNsec
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.queryTimeNsec = 0;

        /**
         * Message queryMessage.
         * @member {Uint8Array} queryMessage
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.queryMessage = $util.newBuffer([]);

        /**
         * Message queryZone.
         * @member {Uint8Array} queryZone
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.queryZone = $util.newBuffer([]);

        /**
         * Message responseTimeSec.
         * @member {number|Long} responseTimeSec
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.responseTimeSec = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * Message responseTimeNsec.
         * @member {number} responseTimeNsec
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.responseTimeNsec = 0;

        /**
         * Message responseMessage.
         * @member {Uint8Array} responseMessage
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.responseMessage = $util.newBuffer([]);

        /**
         * Message policy.
         * @member {dnstap.Policy.$Properties|null|undefined} policy
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.policy = null;

        /**
         * Message httpProtocol.
         * @member {dnstap.HttpProtocol} httpProtocol
         * @memberof dnstap.Message
         * @instance
         */
        Message.prototype.httpProtocol = 1;

        /**
         * Creates a new Message instance using the specified properties.
         * @function create
         * @memberof dnstap.Message
         * @static
         * @param {dnstap.Message.$Properties=} [properties] Properties to set
         * @returns {dnstap.Message} Message instance
         * @type {{
         *   (properties: dnstap.Message.$Shape): dnstap.Message & dnstap.Message.$Shape;
         *   (properties?: dnstap.Message.$Properties): dnstap.Message;
         * }}
         */
        Message.create = function(properties) {
            return new Message(properties);
        };

        /**
         * Encodes the specified Message message. Does not implicitly {@link dnstap.Message.verify|verify} messages.
         * @function encode
         * @memberof dnstap.Message
         * @static
         * @param {dnstap.Message.$Properties} message Message message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Message.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            writer.uint32(/* id 1, wireType 0 =*/8).int32(message.type);
            if (message.socketFamily != null && $Object.hasOwnProperty.call(message, "socketFamily"))
                writer.uint32(/* id 2, wireType 0 =*/16).int32(message.socketFamily);
            if (message.socketProtocol != null && $Object.hasOwnProperty.call(message, "socketProtocol"))
                writer.uint32(/* id 3, wireType 0 =*/24).int32(message.socketProtocol);
            if (message.queryAddress != null && $Object.hasOwnProperty.call(message, "queryAddress"))
                writer.uint32(/* id 4, wireType 2 =*/34).bytes(message.queryAddress);
            if (message.responseAddress != null && $Object.hasOwnProperty.call(message, "responseAddress"))
                writer.uint32(/* id 5, wireType 2 =*/42).bytes(message.responseAddress);
            if (message.queryPort != null && $Object.hasOwnProperty.call(message, "queryPort"))
                writer.uint32(/* id 6, wireType 0 =*/48).uint32(message.queryPort);
            if (message.responsePort != null && $Object.hasOwnProperty.call(message, "responsePort"))
                writer.uint32(/* id 7, wireType 0 =*/56).uint32(message.responsePort);
            if (message.queryTimeSec != null && $Object.hasOwnProperty.call(message, "queryTimeSec"))
                writer.uint32(/* id 8, wireType 0 =*/64).uint64(message.queryTimeSec);
            if (message.queryTimeNsec != null && $Object.hasOwnProperty.call(message, "queryTimeNsec"))
                writer.uint32(/* id 9, wireType 5 =*/77).fixed32(message.queryTimeNsec);
            if (message.queryMessage != null && $Object.hasOwnProperty.call(message, "queryMessage"))
                writer.uint32(/* id 10, wireType 2 =*/82).bytes(message.queryMessage);
            if (message.queryZone != null && $Object.hasOwnProperty.call(message, "queryZone"))
                writer.uint32(/* id 11, wireType 2 =*/90).bytes(message.queryZone);
            if (message.responseTimeSec != null && $Object.hasOwnProperty.call(message, "responseTimeSec"))
                writer.uint32(/* id 12, wireType 0 =*/96).uint64(message.responseTimeSec);
            if (message.responseTimeNsec != null && $Object.hasOwnProperty.call(message, "responseTimeNsec"))
                writer.uint32(/* id 13, wireType 5 =*/109).fixed32(message.responseTimeNsec);
            if (message.responseMessage != null && $Object.hasOwnProperty.call(message, "responseMessage"))
                writer.uint32(/* id 14, wireType 2 =*/114).bytes(message.responseMessage);
            if (message.policy != null && $Object.hasOwnProperty.call(message, "policy"))
                $root.dnstap.Policy.encode(message.policy, writer.uint32(/* id 15, wireType 2 =*/122).fork(), _depth + 1).ldelim();
            if (message.httpProtocol != null && $Object.hasOwnProperty.call(message, "httpProtocol"))
                writer.uint32(/* id 16, wireType 0 =*/128).int32(message.httpProtocol);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a Message message from the specified reader or buffer.
         * @function decode
         * @memberof dnstap.Message
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {dnstap.Message & dnstap.Message.$Shape} Message
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Message.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.dnstap.Message();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 0)
                            break;
                        value = reader.int32();
                        if ($root.dnstap.Message.Type[value] !== $undefined)
                            message.type = value;
                        else if (!reader.discardUnknown) {
                            $util.makeProp(message, "$unknowns", false);
                            (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                        }
                        continue;
                    }
                case 2: {
                        if (wireType !== 0)
                            break;
                        value = reader.int32();
                        if ($root.dnstap.SocketFamily[value] !== $undefined)
                            message.socketFamily = value;
                        else if (!reader.discardUnknown) {
                            $util.makeProp(message, "$unknowns", false);
                            (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                        }
                        continue;
                    }
                case 3: {
                        if (wireType !== 0)
                            break;
                        value = reader.int32();
                        if ($root.dnstap.SocketProtocol[value] !== $undefined)
                            message.socketProtocol = value;
                        else if (!reader.discardUnknown) {
                            $util.makeProp(message, "$unknowns", false);
                            (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                        }
                        continue;
                    }
                case 4: {
                        if (wireType !== 2)
                            break;
                        message.queryAddress = reader.bytes();
                        continue;
                    }
                case 5: {
                        if (wireType !== 2)
                            break;
                        message.responseAddress = reader.bytes();
                        continue;
                    }
                case 6: {
                        if (wireType !== 0)
                            break;
                        message.queryPort = reader.uint32();
                        continue;
                    }
                case 7: {
                        if (wireType !== 0)
                            break;
                        message.responsePort = reader.uint32();
                        continue;
                    }
                case 8: {
                        if (wireType !== 0)
                            break;
                        message.queryTimeSec = reader.uint64();
                        continue;
                    }
                case 9: {
                        if (wireType !== 5)
                            break;
                        message.queryTimeNsec = reader.fixed32();
                        continue;
                    }
                case 10: {
                        if (wireType !== 2)
                            break;
                        message.queryMessage = reader.bytes();
                        continue;
                    }
                case 11: {
                        if (wireType !== 2)
                            break;
                        message.queryZone = reader.bytes();
                        continue;
                    }
                case 12: {
                        if (wireType !== 0)
                            break;
                        message.responseTimeSec = reader.uint64();
                        continue;
                    }
                case 13: {
                        if (wireType !== 5)
                            break;
                        message.responseTimeNsec = reader.fixed32();
                        continue;
                    }
                case 14: {
                        if (wireType !== 2)
                            break;
                        message.responseMessage = reader.bytes();
                        continue;
                    }
                case 15: {
                        if (wireType !== 2)
                            break;
                        message.policy = $root.dnstap.Policy.decode(reader, reader.size(), $undefined, _depth + 1, message.policy);
                        continue;
                    }
                case 16: {
                        if (wireType !== 0)
                            break;
                        value = reader.int32();
                        if ($root.dnstap.HttpProtocol[value] !== $undefined)
                            message.httpProtocol = value;
                        else if (!reader.discardUnknown) {
                            $util.makeProp(message, "$unknowns", false);
                            (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                        }
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            if (!$Object.hasOwnProperty.call(message, "type"))
                throw $util.ProtocolError("missing required 'type'", { instance: message });
            return message;
        };

        /**
         * Creates a Message message from a plain object. Also converts values to their respective internal types.
         * @function fromObject
         * @memberof dnstap.Message
         * @static
         * @param {Object.<string,*>} object Plain object
         * @returns {dnstap.Message} Message
         */
        Message.fromObject = function (object, _depth) {
            if (object instanceof $root.dnstap.Message)
                return object;
            if (!$util.isObject(object))
                throw $TypeError(".dnstap.Message: object expected");
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            let message = new $root.dnstap.Message();
            switch (object.type) {
            case "AUTH_QUERY":
            case 1:
                message.type = 1;
                break;
            case "AUTH_RESPONSE":
            case 2:
                message.type = 2;
                break;
            case "RESOLVER_QUERY":
            case 3:
                message.type = 3;
                break;
            case "RESOLVER_RESPONSE":
            case 4:
                message.type = 4;
                break;
            case "CLIENT_QUERY":
            case 5:
                message.type = 5;
                break;
            case "CLIENT_RESPONSE":
            case 6:
                message.type = 6;
                break;
            case "FORWARDER_QUERY":
            case 7:
                message.type = 7;
                break;
            case "FORWARDER_RESPONSE":
            case 8:
                message.type = 8;
                break;
            case "STUB_QUERY":
            case 9:
                message.type = 9;
                break;
            case "STUB_RESPONSE":
            case 10:
                message.type = 10;
                break;
            case "TOOL_QUERY":
            case 11:
                message.type = 11;
                break;
            case "TOOL_RESPONSE":
            case 12:
                message.type = 12;
                break;
            case "UPDATE_QUERY":
            case 13:
                message.type = 13;
                break;
            case "UPDATE_RESPONSE":
            case 14:
                message.type = 14;
                break;
            default:
            }
            switch (object.socketFamily) {
            case "INET":
            case 1:
                message.socketFamily = 1;
                break;
            case "INET6":
            case 2:
                message.socketFamily = 2;
                break;
            default:
            }
            switch (object.socketProtocol) {
            case "UDP":
            case 1:
                message.socketProtocol = 1;
                break;
            case "TCP":
            case 2:
                message.socketProtocol = 2;
                break;
            case "DOT":
            case 3:
                message.socketProtocol = 3;
                break;
            case "DOH":
            case 4:
                message.socketProtocol = 4;
                break;
            case "DNSCryptUDP":
            case 5:
                message.socketProtocol = 5;
                break;
            case "DNSCryptTCP":
            case 6:
                message.socketProtocol = 6;
                break;
            case "DOQ":
            case 7:
                message.socketProtocol = 7;
                break;
            default:
            }
            if (object.queryAddress != null)
                if (typeof object.queryAddress === "string")
                    $util.base64.decode(object.queryAddress, message.queryAddress = $util.newBuffer($util.base64.length(object.queryAddress)), 0);
                else if (object.queryAddress.length >= 0)
                    message.queryAddress = object.queryAddress;
            if (object.responseAddress != null)
                if (typeof object.responseAddress === "string")
                    $util.base64.decode(object.responseAddress, message.responseAddress = $util.newBuffer($util.base64.length(object.responseAddress)), 0);
                else if (object.responseAddress.length >= 0)
                    message.responseAddress = object.responseAddress;
            if (object.queryPort != null)
                message.queryPort = object.queryPort >>> 0;
            if (object.responsePort != null)
                message.responsePort = object.responsePort >>> 0;
            if (object.queryTimeSec != null)
                if ($util.Long)
                    message.queryTimeSec = $util.Long.fromValue(object.queryTimeSec, true);
                else if (typeof object.queryTimeSec === "string")
                    message.queryTimeSec = $parseInt(object.queryTimeSec, 10);
                else if (typeof object.queryTimeSec === "number")
                    message.queryTimeSec = object.queryTimeSec;
                else if (typeof object.queryTimeSec === "object")
                    message.queryTimeSec = new $util.LongBits(object.queryTimeSec.low >>> 0, object.queryTimeSec.high >>> 0).toNumber(true);
            if (object.queryTimeNsec != null)
                message.queryTimeNsec = object.queryTimeNsec >>> 0;
            if (object.queryMessage != null)
                if (typeof object.queryMessage === "string")
                    $util.base64.decode(object.queryMessage, message.queryMessage = $util.newBuffer($util.base64.length(object.queryMessage)), 0);
                else if (object.queryMessage.length >= 0)
                    message.queryMessage = object.queryMessage;
            if (object.queryZone != null)
                if (typeof object.queryZone === "string")
                    $util.base64.decode(object.queryZone, message.queryZone = $util.newBuffer($util.base64.length(object.queryZone)), 0);
                else if (object.queryZone.length >= 0)
                    message.queryZone = object.queryZone;
            if (object.responseTimeSec != null)
                if ($util.Long)
                    message.responseTimeSec = $util.Long.fromValue(object.responseTimeSec, true);
                else if (typeof object.responseTimeSec === "string")
                    message.responseTimeSec = $parseInt(object.responseTimeSec, 10);
                else if (typeof object.responseTimeSec === "number")
                    message.responseTimeSec = object.responseTimeSec;
                else if (typeof object.responseTimeSec === "object")
                    message.responseTimeSec = new $util.LongBits(object.responseTimeSec.low >>> 0, object.responseTimeSec.high >>> 0).toNumber(true);
            if (object.responseTimeNsec != null)
                message.responseTimeNsec = object.responseTimeNsec >>> 0;
            if (object.responseMessage != null)
                if (typeof object.responseMessage === "string")
                    $util.base64.decode(object.responseMessage, message.responseMessage = $util.newBuffer($util.base64.length(object.responseMessage)), 0);
                else if (object.responseMessage.length >= 0)
                    message.responseMessage = object.responseMessage;
            if (object.policy != null) {
                if (!$util.isObject(object.policy))
                    throw $TypeError(".dnstap.Message.policy: object expected");
                message.policy = $root.dnstap.Policy.fromObject(object.policy, _depth + 1);
            }
            switch (object.httpProtocol) {
            case "HTTP1":
            case 1:
                message.httpProtocol = 1;
                break;
            case "HTTP2":
            case 2:
                message.httpProtocol = 2;
                break;
            case "HTTP3":
            case 3:
                message.httpProtocol = 3;
                break;
            default:
            }
            return message;
        };

        /**
         * Creates a plain object from a Message message. Also converts values to other types if specified.
         * @function toObject
         * @memberof dnstap.Message
         * @static
         * @param {dnstap.Message} message Message
         * @param {$protobuf.IConversionOptions} [options] Conversion options
         * @returns {Object.<string,*>} Plain object
         */
        Message.toObject = function (message, options, _depth) {
            if (!options)
                options = {};
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            let object = {};
            if (options.defaults) {
                object.type = options.enums === $String ? "AUTH_QUERY" : 1;
                object.socketFamily = options.enums === $String ? "INET" : 1;
                object.socketProtocol = options.enums === $String ? "UDP" : 1;
                if (options.bytes === $String)
                    object.queryAddress = "";
                else {
                    object.queryAddress = [];
                    if (options.bytes !== $Array)
                        object.queryAddress = $util.newBuffer(object.queryAddress);
                }
                if (options.bytes === $String)
                    object.responseAddress = "";
                else {
                    object.responseAddress = [];
                    if (options.bytes !== $Array)
                        object.responseAddress = $util.newBuffer(object.responseAddress);
                }
                object.queryPort = 0;
                object.responsePort = 0;
                if ($util.Long) {
                    let long = new $util.Long(0, 0, true);
                    object.queryTimeSec = options.longs === $String ? long.toString() : options.longs === $Number ? long.toNumber() : typeof $BigInt !== "undefined" && options.longs === $BigInt ? long.toBigInt() : long;
                } else
                    object.queryTimeSec = options.longs === $String ? "0" : typeof $BigInt !== "undefined" && options.longs === $BigInt ? $BigInt("0") : 0;
                object.queryTimeNsec = 0;
                if (options.bytes === $String)
                    object.queryMessage = "";
                else {
                    object.queryMessage = [];
                    if (options.bytes !== $Array)
                        object.queryMessage = $util.newBuffer(object.queryMessage);
                }
                if (options.bytes === $String)
                    object.queryZone = "";
                else {
                    object.queryZone = [];
                    if (options.bytes !== $Array)
                        object.queryZone = $util.newBuffer(object.queryZone);
                }
                if ($util.Long) {
                    let long = new $util.Long(0, 0, true);
                    object.responseTimeSec = options.longs === $String ? long.toString() : options.longs === $Number ? long.toNumber() : typeof $BigInt !== "undefined" && options.longs === $BigInt ? long.toBigInt() : long;
                } else
                    object.responseTimeSec = options.longs === $String ? "0" : typeof $BigInt !== "undefined" && options.longs === $BigInt ? $BigInt("0") : 0;
                object.responseTimeNsec = 0;
                if (options.bytes === $String)
                    object.responseMessage = "";
                else {
                    object.responseMessage = [];
                    if (options.bytes !== $Array)
                        object.responseMessage = $util.newBuffer(object.responseMessage);
                }
                object.policy = null;
                object.httpProtocol = options.enums === $String ? "HTTP1" : 1;
            }
            if (message.type != null && $Object.hasOwnProperty.call(message, "type"))
                object.type = options.enums === $String ? $root.dnstap.Message.Type[message.type] === $undefined ? message.type : $root.dnstap.Message.Type[message.type] : message.type;
            if (message.socketFamily != null && $Object.hasOwnProperty.call(message, "socketFamily"))
                object.socketFamily = options.enums === $String ? $root.dnstap.SocketFamily[message.socketFamily] === $undefined ? message.socketFamily : $root.dnstap.SocketFamily[message.socketFamily] : message.socketFamily;
            if (message.socketProtocol != null && $Object.hasOwnProperty.call(message, "socketProtocol"))
                object.socketProtocol = options.enums === $String ? $root.dnstap.SocketProtocol[message.socketProtocol] === $undefined ? message.socketProtocol : $root.dnstap.SocketProtocol[message.socketProtocol] : message.socketProtocol;
            if (message.queryAddress != null && $Object.hasOwnProperty.call(message, "queryAddress"))
                object.queryAddress = options.bytes === $String ? $util.base64.encode(message.queryAddress, 0, message.queryAddress.length) : options.bytes === $Array ? $Array.prototype.slice.call(message.queryAddress) : message.queryAddress;
            if (message.responseAddress != null && $Object.hasOwnProperty.call(message, "responseAddress"))
                object.responseAddress = options.bytes === $String ? $util.base64.encode(message.responseAddress, 0, message.responseAddress.length) : options.bytes === $Array ? $Array.prototype.slice.call(message.responseAddress) : message.responseAddress;
            if (message.queryPort != null && $Object.hasOwnProperty.call(message, "queryPort"))
                object.queryPort = message.queryPort;
            if (message.responsePort != null && $Object.hasOwnProperty.call(message, "responsePort"))
                object.responsePort = message.responsePort;
            if (message.queryTimeSec != null && $Object.hasOwnProperty.call(message, "queryTimeSec"))
                if (typeof $BigInt !== "undefined" && options.longs === $BigInt)
                    object.queryTimeSec = typeof message.queryTimeSec === "number" ? $BigInt(message.queryTimeSec) : $util.Long.fromBits(message.queryTimeSec.low >>> 0, message.queryTimeSec.high >>> 0, true).toBigInt();
                else if (typeof message.queryTimeSec === "number")
                    object.queryTimeSec = options.longs === $String ? $String(message.queryTimeSec) : message.queryTimeSec;
                else
                    object.queryTimeSec = options.longs === $String ? $util.Long.prototype.toString.call(message.queryTimeSec) : options.longs === $Number ? new $util.LongBits(message.queryTimeSec.low >>> 0, message.queryTimeSec.high >>> 0).toNumber(true) : message.queryTimeSec;
            if (message.queryTimeNsec != null && $Object.hasOwnProperty.call(message, "queryTimeNsec"))
                object.queryTimeNsec = message.queryTimeNsec;
            if (message.queryMessage != null && $Object.hasOwnProperty.call(message, "queryMessage"))
                object.queryMessage = options.bytes === $String ? $util.base64.encode(message.queryMessage, 0, message.queryMessage.length) : options.bytes === $Array ? $Array.prototype.slice.call(message.queryMessage) : message.queryMessage;
            if (message.queryZone != null && $Object.hasOwnProperty.call(message, "queryZone"))
                object.queryZone = options.bytes === $String ? $util.base64.encode(message.queryZone, 0, message.queryZone.length) : options.bytes === $Array ? $Array.prototype.slice.call(message.queryZone) : message.queryZone;
            if (message.responseTimeSec != null && $Object.hasOwnProperty.call(message, "responseTimeSec"))
                if (typeof $BigInt !== "undefined" && options.longs === $BigInt)
                    object.responseTimeSec = typeof message.responseTimeSec === "number" ? $BigInt(message.responseTimeSec) : $util.Long.fromBits(message.responseTimeSec.low >>> 0, message.responseTimeSec.high >>> 0, true).toBigInt();
                else if (typeof message.responseTimeSec === "number")
                    object.responseTimeSec = options.longs === $String ? $String(message.responseTimeSec) : message.responseTimeSec;
                else
                    object.responseTimeSec = options.longs === $String ? $util.Long.prototype.toString.call(message.responseTimeSec) : options.longs === $Number ? new $util.LongBits(message.responseTimeSec.low >>> 0, message.responseTimeSec.high >>> 0).toNumber(true) : message.responseTimeSec;
            if (message.responseTimeNsec != null && $Object.hasOwnProperty.call(message, "responseTimeNsec"))
                object.responseTimeNsec = message.responseTimeNsec;
            if (message.responseMessage != null && $Object.hasOwnProperty.call(message, "responseMessage"))
                object.responseMessage = options.bytes === $String ? $util.base64.encode(message.responseMessage, 0, message.responseMessage.length) : options.bytes === $Array ? $Array.prototype.slice.call(message.responseMessage) : message.responseMessage;
            if (message.policy != null && $Object.hasOwnProperty.call(message, "policy"))
                object.policy = $root.dnstap.Policy.toObject(message.policy, options, _depth + 1);
            if (message.httpProtocol != null && $Object.hasOwnProperty.call(message, "httpProtocol"))
                object.httpProtocol = options.enums === $String ? $root.dnstap.HttpProtocol[message.httpProtocol] === $undefined ? message.httpProtocol : $root.dnstap.HttpProtocol[message.httpProtocol] : message.httpProtocol;
            return object;
        };

        /**
         * Converts this Message to JSON.
         * @function toJSON
         * @memberof dnstap.Message
         * @instance
         * @returns {Object.<string,*>} JSON object
         */
        Message.prototype.toJSON = function() {
            return Message.toObject(this, $protobuf.util.toJSONOptions);
        };

        /**
         * Gets the type url for Message
         * @function getTypeUrl
         * @memberof dnstap.Message
         * @static
         * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
         * @returns {string} The type url
         */
        Message.getTypeUrl = function(prefix) {
            if (prefix === $undefined)
                prefix = "type.googleapis.com";
            return prefix + "/dnstap.Message";
        };

        /**
         * Type enum.
         * @name dnstap.Message.Type
         * @enum {number}
         * @property {number} AUTH_QUERY=1 AUTH_QUERY value
         * @property {number} AUTH_RESPONSE=2 AUTH_RESPONSE value
         * @property {number} RESOLVER_QUERY=3 RESOLVER_QUERY value
         * @property {number} RESOLVER_RESPONSE=4 RESOLVER_RESPONSE value
         * @property {number} CLIENT_QUERY=5 CLIENT_QUERY value
         * @property {number} CLIENT_RESPONSE=6 CLIENT_RESPONSE value
         * @property {number} FORWARDER_QUERY=7 FORWARDER_QUERY value
         * @property {number} FORWARDER_RESPONSE=8 FORWARDER_RESPONSE value
         * @property {number} STUB_QUERY=9 STUB_QUERY value
         * @property {number} STUB_RESPONSE=10 STUB_RESPONSE value
         * @property {number} TOOL_QUERY=11 TOOL_QUERY value
         * @property {number} TOOL_RESPONSE=12 TOOL_RESPONSE value
         * @property {number} UPDATE_QUERY=13 UPDATE_QUERY value
         * @property {number} UPDATE_RESPONSE=14 UPDATE_RESPONSE value
         */
        Message.Type = (function() {
            const valuesById = $Object.create(null), values = $Object.create(valuesById);
            values[valuesById[1] = "AUTH_QUERY"] = 1;
            values[valuesById[2] = "AUTH_RESPONSE"] = 2;
            values[valuesById[3] = "RESOLVER_QUERY"] = 3;
            values[valuesById[4] = "RESOLVER_RESPONSE"] = 4;
            values[valuesById[5] = "CLIENT_QUERY"] = 5;
            values[valuesById[6] = "CLIENT_RESPONSE"] = 6;
            values[valuesById[7] = "FORWARDER_QUERY"] = 7;
            values[valuesById[8] = "FORWARDER_RESPONSE"] = 8;
            values[valuesById[9] = "STUB_QUERY"] = 9;
            values[valuesById[10] = "STUB_RESPONSE"] = 10;
            values[valuesById[11] = "TOOL_QUERY"] = 11;
            values[valuesById[12] = "TOOL_RESPONSE"] = 12;
            values[valuesById[13] = "UPDATE_QUERY"] = 13;
            values[valuesById[14] = "UPDATE_RESPONSE"] = 14;
            return values;
        })();

        return Message;
    })();

    return dnstap;
})();

export {
  $root as default
};
