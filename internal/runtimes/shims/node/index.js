/*
 * Sluice runtime shim for the nodejs18.x, nodejs20.x, nodejs22.x and nodejs24.x runtimes.
 *
 * It plays the part of AWS's Node.js runtime interface client (the code in /var/runtime of AWS's managed Node
 * runtimes): it loads the handler named by _HANDLER from LAMBDA_TASK_ROOT, then loops on the Lambda Runtime API
 * at http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/..., invoking the handler once per event.
 *
 * It depends on nothing but Node's built-in modules, runs on Node 18 and later, writes nothing to disk, and leaves
 * the environment alone except for _X_AMZN_TRACE_ID, which it sets (or removes) for each invocation as AWS does.
 *
 * Behaviour follows AWS's runtime client (aws-lambda-nodejs-runtime-interface-client, the JavaScript version used by
 * nodejs18.x-22.x); internal/runtimes/doc.go lists where and why it differs.
 */
'use strict';

const http = require('http');
const net = require('net');
const fs = require('fs');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');

const RUNTIME_PATH = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const ERROR_BODY_TRAILER = 'Lambda-Runtime-Function-Error-Body';
const RESPONSE_MODE_HEADER = 'Lambda-Runtime-Function-Response-Mode';
const ERROR_CONTENT_TYPE = 'application/vnd.aws.lambda.error+json';

/* ------------------------------------------------------------------------------------------------------------
 * Errors, named and shaped like AWS's ("Runtime.ImportModuleError", ...).
 */

function runtimeErrorClass(name) {
  const cls = class extends Error {};
  Object.defineProperty(cls, 'name', { value: name });
  cls.prototype.name = 'Runtime.' + name;
  return cls;
}

const ImportModuleError = runtimeErrorClass('ImportModuleError');
const HandlerNotFound = runtimeErrorClass('HandlerNotFound');
const MalformedHandlerName = runtimeErrorClass('MalformedHandlerName');
const UserCodeSyntaxError = runtimeErrorClass('UserCodeSyntaxError');
const MalformedStreamingHandler = runtimeErrorClass('MalformedStreamingHandler');
const InvalidStreamingOperation = runtimeErrorClass('InvalidStreamingOperation');
const CallbackHandlerDeprecated = runtimeErrorClass('CallbackHandlerDeprecated');
const NodeJsExit = class extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a ' +
        'Promise that was never settled. For more information, see ' +
        'https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
};
NodeJsExit.prototype.name = 'Runtime.NodeJsExit';
const UnhandledPromiseRejection = class extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
};
UnhandledPromiseRejection.prototype.name = 'Runtime.UnhandledPromiseRejection';

function isErrorLike(obj) {
  return (
    obj &&
    obj.name &&
    obj.message &&
    obj.stack &&
    typeof obj.name === 'string' &&
    typeof obj.message === 'string' &&
    typeof obj.stack === 'string'
  );
}

// The body AWS's runtime posts for an error: {errorType, errorMessage, trace}. trace is error.stack split into lines
// (its first line is "Name: message"); values that are not errors get errorType = typeof value.
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
      };
    }
    return {
      errorType: typeof error,
      errorMessage: error.toString(),
      trace: [],
    };
  } catch (_err) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(error) {
  if (error instanceof Error) {
    const ret = Object.assign({ errorType: error.name, errorMessage: error.message, code: error.code }, error);
    if (typeof error.stack === 'string') {
      ret.stack = error.stack.split('\n');
    }
    return ret;
  }
  return error;
}

// The text AWS's runtime logs after "Invoke Error" / "Uncaught Exception": a tab, then the error as JSON.
function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch (_err) {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

/* ------------------------------------------------------------------------------------------------------------
 * Logging: console.* write "<ISO time>\t<request id>\t<LEVEL>\t<message>" lines to stdout, with newlines inside
 * a message turned into carriage returns so that one call stays one line (AWS's text format).
 */

let currentRequestId; // undefined until the first invocation, printed as "undefined" like AWS does

const LEVELS = {
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
};

function writeLog(level, message, ...params) {
  const line = `${new Date().toISOString()}\t${currentRequestId}\t${level.name}\t${util.format(message, ...params)}`;
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function patchConsole() {
  const min = LEVELS[String(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] || LEVELS.TRACE;
  const nop = () => {};
  const make = (level) => (level.priority >= min.priority ? (msg, ...params) => writeLog(level, msg, ...params) : nop);
  console.trace = make(LEVELS.TRACE);
  console.debug = make(LEVELS.DEBUG);
  console.info = make(LEVELS.INFO);
  console.log = console.info;
  console.warn = make(LEVELS.WARN);
  console.error = make(LEVELS.ERROR);
  console.fatal = (msg, ...params) => writeLog(LEVELS.FATAL, msg, ...params);
}

function logError(what, err) {
  console.error(what, toFormatted(intoError(err)));
}

// Last-resort diagnostics of the shim itself (never the user's): plain stderr, not subject to the log level.
function fatal(what, err) {
  try {
    process.stderr.write(`sluice runtime: ${what}: ${err && err.stack ? err.stack : err}\n`);
  } finally {
    process.exit(1);
  }
}

/* ------------------------------------------------------------------------------------------------------------
 * Runtime API client (http only; one keep-alive agent; a request that fails because the server closed an idle
 * kept-alive connection is retried once on a new one, as Node's documentation recommends).
 */

function parseRuntimeApi(value) {
  if (!value) {
    throw new Error('Missing Runtime API Server configuration.');
  }
  const i = value.lastIndexOf(':');
  let host = i >= 0 ? value.slice(0, i) : value;
  const port = i >= 0 ? parseInt(value.slice(i + 1), 10) : 80;
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
  }
  return { host, port };
}

class RuntimeClient {
  constructor(address) {
    const { host, port } = parseRuntimeApi(address);
    this.host = host;
    this.port = port;
    this.agent = new http.Agent({ keepAlive: true });
  }

  request(method, p, headers, body, retried) {
    return new Promise((resolve, reject) => {
      const req = http.request(
        // maxHeaderSize as AWS's runtime allows (its node runs with --max-http-header-size 81920): client
        // context and Cognito identity headers can be large.
        { host: this.host, port: this.port, path: p, method, headers, agent: this.agent, maxHeaderSize: 81920 },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', (err) => {
        if (!retried && req.reusedSocket && err.code === 'ECONNRESET') {
          resolve(this.request(method, p, headers, body, true));
          return;
        }
        reject(err);
      });
      req.end(body);
    });
  }

  async next() {
    const res = await this.request('GET', RUNTIME_PATH + '/invocation/next', {});
    if (res.status !== 200) {
      throw new Error(`GET /invocation/next answered ${res.status}: ${res.body.toString('utf8')}`);
    }
    return { bodyJson: res.body.toString('utf8'), headers: res.headers };
  }

  async post(p, body, contentType, extraHeaders) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const headers = Object.assign({ 'Content-Type': contentType, 'Content-Length': buf.length }, extraHeaders || {});
    const res = await this.request('POST', p, headers, buf);
    if (res.status < 200 || res.status > 299) {
      // Not fatal: the Runtime API refused this one result (too large, unknown or finished invocation, ...).
      process.stderr.write(`sluice runtime: POST ${p} answered ${res.status}: ${res.body.toString('utf8')}\n`);
    }
  }

  postInvocationResponse(bodyString, id, contentType) {
    return this.post(
      `${RUNTIME_PATH}/invocation/${encodeURIComponent(id)}/response`,
      bodyString,
      contentType || 'application/json',
    );
  }

  postInvocationError(error, id) {
    const response = toRapidResponse(error);
    return this.post(
      `${RUNTIME_PATH}/invocation/${encodeURIComponent(id)}/error`,
      JSON.stringify(response),
      ERROR_CONTENT_TYPE,
      errorTypeHeader(response.errorType),
    );
  }

  postInitError(error) {
    const response = toRapidResponse(error);
    return this.post(`${RUNTIME_PATH}/init/error`, JSON.stringify(response), ERROR_CONTENT_TYPE, errorTypeHeader(response.errorType));
  }

  // The response stream of a streaming handler: a chunked POST to /response (see createResponseStream).
  responseStream(id, highWaterMark) {
    let agent = this.agent;
    if (highWaterMark) {
      // The handler's highWaterMark sizes the socket's buffer, so that write() reports backpressure at it.
      if (!this.streamAgents) {
        this.streamAgents = new Map();
      }
      agent = this.streamAgents.get(highWaterMark);
      if (!agent) {
        agent = new http.Agent({ keepAlive: true });
        agent.createConnection = (opts, cb) => net.createConnection({ ...opts, highWaterMark }, cb);
        this.streamAgents.set(highWaterMark, agent);
      }
    }
    return createResponseStream({
      host: this.host,
      port: this.port,
      path: `${RUNTIME_PATH}/invocation/${encodeURIComponent(id)}/response`,
      agent,
    });
  }
}

// An error name can contain anything; a header value cannot.
function errorTypeHeader(errorType) {
  const value = String(errorType === undefined ? '' : errorType).replace(/[^\t\x20-\x7e]/g, '');
  return value ? { [ERROR_TYPE_HEADER]: value } : {};
}

// JSON.stringify(undefined) is undefined; AWS sends the JSON null for it.
function serializeResult(result) {
  try {
    return JSON.stringify(result === undefined ? null : result);
  } catch (_err) {
    throw new Error('Unable to stringify response body');
  }
}

/* ------------------------------------------------------------------------------------------------------------
 * Loading the handler: "<dir>/<module>.<export path>", resolved like AWS's runtime.
 */

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';

function hasFolderPackageJsonTypeModule(folder) {
  if (folder.endsWith('/node_modules')) {
    return false;
  }
  const pj = path.join(folder, 'package.json');
  if (fs.existsSync(pj)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'));
      if (pkg) {
        return pkg.type === 'module';
      }
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === '/' || path.dirname(folder) === folder) {
    return false;
  }
  return hasFolderPackageJsonTypeModule(path.resolve(folder, '..'));
}

function tryRequireFile(file, extension) {
  const p = file + (extension || '');
  return fs.existsSync(p) ? require(p) : undefined;
}

async function tryAwaitImport(file, extension) {
  const p = file + (extension || '');
  return fs.existsSync(p) ? await import(pathToFileURL(p).href) : undefined;
}

async function tryRequire(appRoot, moduleRoot, module) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, module);
  const extensionless = tryRequireFile(lambdaStylePath);
  if (extensionless) {
    return extensionless;
  }
  const pjHasModule = hasFolderPackageJsonTypeModule(path.dirname(lambdaStylePath));
  if (!pjHasModule) {
    const loaded = tryRequireFile(lambdaStylePath, '.js');
    if (loaded) {
      return loaded;
    }
  }
  const loaded =
    (pjHasModule && (await tryAwaitImport(lambdaStylePath, '.js'))) ||
    (await tryAwaitImport(lambdaStylePath, '.mjs')) ||
    tryRequireFile(lambdaStylePath, '.cjs');
  if (loaded) {
    return loaded;
  }
  // Not a file next to the handler path: resolve it like a package name (node_modules, NODE_PATH).
  const nodeStylePath = require.resolve(module, { paths: [appRoot, moduleRoot] });
  return require(nodeStylePath);
}

async function loadUserApp(appRoot, moduleRoot, module) {
  try {
    return await tryRequire(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new UserCodeSyntaxError(e);
    } else if (e && e.code === 'MODULE_NOT_FOUND') {
      throw new ImportModuleError(e);
    }
    throw e;
  }
}

async function loadHandler(appRoot, fullHandlerString) {
  if (fullHandlerString.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandlerString);
  const moduleRoot = fullHandlerString.substring(0, fullHandlerString.indexOf(handlerString));
  const match = handlerString.match(FUNCTION_EXPR);
  if (!match || match.length !== 3) {
    throw new MalformedHandlerName('Bad handler');
  }
  const [, module, handlerPath] = match;

  const userApp = await loadUserApp(appRoot, moduleRoot, module);
  const handlerFunc = handlerPath.split('.').reduce((nested, key) => nested && nested[key], userApp);
  if (!handlerFunc) {
    throw new HandlerNotFound(`${fullHandlerString} is undefined or not exported`);
  }
  if (typeof handlerFunc !== 'function') {
    throw new HandlerNotFound(`${fullHandlerString} is not a function`);
  }
  return handlerFunc;
}

function handlerMetadata(handler) {
  let streaming = false;
  const mark = handler[HANDLER_STREAMING];
  if (mark !== undefined && mark !== null && mark !== false) {
    if (mark !== STREAM_RESPONSE) {
      throw new MalformedStreamingHandler('Only response streaming is supported.');
    }
    streaming = true;
  }
  let isAsync = false;
  try {
    isAsync = !!(handler.constructor && handler.constructor.name === 'AsyncFunction');
  } catch (_e) {
    isAsync = false;
  }
  const highWaterMark = handler[HANDLER_HIGHWATERMARK];
  return { streaming, isAsync, argsNum: handler.length, highWaterMark: typeof highWaterMark === 'number' ? highWaterMark : undefined };
}

// nodejs24.x and later reject callback-style handlers (three or more parameters) at init, as AWS does.
function checkCallbackDeprecation(meta) {
  const m = /^AWS_Lambda_nodejs(\d+)/.exec(process.env.AWS_EXECUTION_ENV || '');
  if (m && parseInt(m[1], 10) >= 24 && meta.argsNum >= 3 && !meta.streaming) {
    throw new CallbackHandlerDeprecated(
      'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. ' +
        'You need to modify this function to use a supported handler signature to use Node.js 24 or later. ' +
        'For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.',
    );
  }
}

/* ------------------------------------------------------------------------------------------------------------
 * Response streaming: awslambda.streamifyResponse marks a handler that writes its response to a stream, which
 * goes to the Runtime API as it is written — one POST to /response with "Lambda-Runtime-Function-Response-Mode:
 * streaming" and a chunked body — and an error mid-stream ends it with the trailers Lambda-Runtime-Function-Error-Type
 * and Lambda-Runtime-Function-Error-Body (the error document, base64), as AWS's runtime client does.
 * awslambda.HttpResponseStream.from prefixes the body with the HTTP integration's prelude (a JSON object, then 8
 * NUL bytes) for function URLs.
 */

const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const PRELUDE_DELIMITER_LENGTH = 8;

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const metadataPrelude = JSON.stringify(prelude); // JSON text has no NUL byte: the delimiter is unambiguous
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(PRELUDE_DELIMITER_LENGTH));
    };
    return underlyingStream;
  }
}

function installGlobalAwsLambda() {
  const off = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (off === '1' || off === 'true') {
    return;
  }
  globalThis.awslambda = {
    streamifyResponse: (handler, options) => {
      handler[HANDLER_STREAMING] = STREAM_RESPONSE;
      if (options && typeof options.highWaterMark === 'number') {
        handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark, 10);
      }
      return handler;
    },
    HttpResponseStream,
  };
}

// The methods and properties of a Writable the handler's stream exposes (the request itself stays hidden, as in
// AWS's runtime client).
const STREAM_METHODS = ['cork', 'uncork', 'destroy', 'addListener', 'emit', 'eventNames', 'getMaxListeners',
  'listenerCount', 'listeners', 'off', 'on', 'once', 'prependListener', 'prependOnceListener', 'rawListeners',
  'removeAllListeners', 'removeListener', 'setMaxListeners'];
const STREAM_PROPERTIES = ['destroyed', 'writable', 'writableFinished', 'writableObjectMode', 'writableBuffer',
  'writableEnded', 'writableNeedDrain', 'writableHighWaterMark', 'writableCorked', 'writableLength'];

// createResponseStream opens the streamed POST for one invocation. It returns the stream the handler writes to,
// a promise of the Runtime API's answer (settled once the POST is complete), and fail(err, done), which ends the
// stream with the error trailers.
function createResponseStream(options) {
  let firstWriteDone = false;
  let answerResolve;
  let answerReject;
  const answered = new Promise((resolve, reject) => {
    answerResolve = resolve;
    answerReject = reject;
  });
  const req = http.request(
    {
      host: options.host,
      port: options.port,
      path: options.path,
      method: 'POST',
      agent: options.agent,
      headers: {
        [RESPONSE_MODE_HEADER]: 'streaming',
        Trailer: [ERROR_TYPE_HEADER, ERROR_BODY_TRAILER],
        'Content-Type': 'application/octet-stream',
      },
    },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('aborted', () => answerReject(new Error('the Runtime API aborted the response')));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if (res.statusCode < 200 || res.statusCode > 299) {
          process.stderr.write(`sluice runtime: POST ${options.path} answered ${res.statusCode}: ${body.toString('utf8')}\n`);
        }
        answerResolve({ status: res.statusCode, body });
      });
    },
  );
  req.on('error', (err) => {
    answerReject(err);
    req.destroy(err);
  });
  answered.catch(() => {}); // a failed POST is seen by whoever awaits it, never as an unhandled rejection

  const beforeFirstWrite = () => {
    if (!firstWriteDone) {
      firstWriteDone = true;
      if (typeof stream._onBeforeFirstWrite === 'function') {
        stream._onBeforeFirstWrite((chunk) => req.write(chunk));
      }
    }
  };
  const stream = {
    _onBeforeFirstWrite: undefined,
    write(chunk, encoding, callback) {
      if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
        chunk = JSON.stringify(chunk);
      }
      beforeFirstWrite();
      return req.write(chunk, encoding, callback);
    },
    // end(chunk?, encoding?, callback?) like Writable's; the prelude of an HTTP integration response goes out
    // even when no byte was written before.
    end(chunk, encoding, callback) {
      if (typeof chunk === 'function') {
        return stream.end(undefined, undefined, chunk);
      }
      if (typeof encoding === 'function') {
        return stream.end(chunk, undefined, encoding);
      }
      if (chunk !== undefined && chunk !== null) {
        stream.write(chunk, encoding);
      } else {
        beforeFirstWrite();
      }
      req.end(callback);
      return stream;
    },
    setContentType(contentType) {
      if (firstWriteDone) {
        throw new InvalidStreamingOperation('Cannot set content-type, too late.');
      }
      req.setHeader('Content-Type', contentType);
    },
  };
  for (const name of STREAM_METHODS) {
    stream[name] = req[name].bind(req);
  }
  for (const name of STREAM_PROPERTIES) {
    Object.defineProperty(stream, name, {
      get: () => req[name],
      set: name === 'destroyed' || name === 'writable' ? (v) => (req[name] = v) : undefined,
      enumerable: true,
    });
  }

  const fail = (err, done) => {
    if (req.writableEnded) {
      // The response is complete already: there is nothing left to carry the error.
      done();
      return;
    }
    const response = toRapidResponse(err);
    const type = errorTypeHeader(response.errorType)[ERROR_TYPE_HEADER] || 'Error';
    req.addTrailers({
      [ERROR_TYPE_HEADER]: type,
      [ERROR_BODY_TRAILER]: Buffer.from(JSON.stringify(response)).toString('base64'),
    });
    req.end(() => done());
  };
  return { stream, answered, fail };
}

/* ------------------------------------------------------------------------------------------------------------
 * The invoke loop.
 */

let beforeExitListener = () => {};
const errorCallbacks = {
  uncaughtException: () => {},
  unhandledRejection: () => {},
};

function isPromise(obj) {
  return obj && obj.then && typeof obj.then === 'function';
}

function parseJsonHeader(value, name) {
  if (value === undefined || value === '') {
    return undefined;
  }
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

class Runtime {
  constructor(client, handler, meta) {
    this.client = client;
    this.handler = handler;
    this.meta = meta;
  }

  scheduleIteration() {
    setImmediate(() => {
      const once = this.meta.streaming ? this.handleOnceStreaming() : this.handleOnce();
      once.then(
        () => {},
        (err) => {
          console.log(`Unexpected Top Level Error: ${err.toString()}`);
          errorCallbacks.uncaughtException(err);
        },
      );
    });
  }

  async nextInvocation() {
    const { bodyJson, headers } = await this.client.next();
    const id = headers['lambda-runtime-aws-request-id'];
    if (!id) {
      throw new Error('invocation id is missing or invalid');
    }
    currentRequestId = id;
    return { bodyJson, headers, id };
  }

  // The user-visible context: the callback part (succeed/fail/done, callbackWaitsForEmptyEventLoop) plus
  // what comes from the environment and the invocation's headers.
  attachEnvironmentData(callbackContext, headers) {
    const trace = headers['lambda-runtime-trace-id'];
    if (trace) {
      process.env._X_AMZN_TRACE_ID = trace;
    } else {
      delete process.env._X_AMZN_TRACE_ID;
    }
    const deadline = headers['lambda-runtime-deadline-ms'];
    return Object.assign(
      callbackContext,
      {
        functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
        functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
        memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
        logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
        logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      },
      {
        clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
        identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
        invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
        awsRequestId: headers['lambda-runtime-aws-request-id'],
        getRemainingTimeInMillis: function () {
          return deadline - Date.now();
        },
      },
    );
  }

  setErrorCallbacks(id) {
    errorCallbacks.uncaughtException = (error) => {
      this.client.postInvocationError(error, id).finally(() => process.exit(129));
    };
    errorCallbacks.unhandledRejection = (error) => {
      this.client.postInvocationError(error, id).finally(() => process.exit(128));
    };
  }

  async handleOnce() {
    const { bodyJson, headers, id } = await this.nextInvocation();
    const [callback, callbackContext, markCompleted] = this.buildCallbackContext(id);
    try {
      this.setErrorCallbacks(id);
      this.setDefaultExitListener(id, markCompleted);
      const context = this.attachEnvironmentData(callbackContext, headers);
      const result = this.handler(JSON.parse(bodyJson), context, callback);
      if (isPromise(result)) {
        result.then(context.succeed, context.fail).catch(context.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  // A streaming handler's invocation, as AWS's runtime client runs it: the stream is opened first, the handler
  // gets (event, responseStream, context); once its promise settles and the Runtime API has taken the whole
  // response, the next invocation starts (when the event loop has drained, unless
  // context.callbackWaitsForEmptyEventLoop is false). A handler that is not async, that throws, or whose stream is
  // not finished fails the invocation through the trailers. A promise that settles while the stream is still open
  // leaves the invocation to time out, as on AWS.
  async handleOnceStreaming() {
    const { bodyJson, headers, id } = await this.nextInvocation();
    let waitForEmptyEventLoop = true;
    const scheduleNext = () => {
      beforeExitListener = () => {};
      if (!waitForEmptyEventLoop) {
        this.scheduleIteration();
      } else {
        beforeExitListener = () => {
          beforeExitListener = () => {};
          setImmediate(() => this.scheduleIteration());
        };
      }
    };
    const { stream, answered, fail } = this.client.responseStream(id, this.meta.highWaterMark);
    const ctxFail = (err) => {
      logError('Invoke Error', err);
      fail(err, scheduleNext);
    };
    this.setErrorCallbacks(id);
    beforeExitListener = () => this.scheduleIteration();
    try {
      const context = this.attachEnvironmentData(
        {
          get callbackWaitsForEmptyEventLoop() {
            return waitForEmptyEventLoop;
          },
          set callbackWaitsForEmptyEventLoop(value) {
            waitForEmptyEventLoop = value;
          },
        },
        headers,
      );
      const handlerResult = this.handler(JSON.parse(bodyJson), stream, context);
      if (!isPromise(handlerResult)) {
        ctxFail('Streaming does not support non-async handlers.');
        return;
      }
      const result = await handlerResult;
      if (typeof result !== 'undefined') {
        console.warn('Streaming handlers ignore return values.');
      }
      await answered;
      if (!stream.writableFinished) {
        ctxFail('Response stream is not finished.');
        return;
      }
      scheduleNext();
    } catch (err) {
      ctxFail(err);
    }
  }

  // The default when the event loop drains before the handler reported anything: an async handler failed to
  // settle its promise (Runtime.NodeJsExit); any other handler succeeds with null.
  setDefaultExitListener(id, markCompleted) {
    beforeExitListener = () => {
      markCompleted();
      beforeExitListener = () => {};
      if (this.meta.isAsync) {
        const err = new NodeJsExit();
        logError('Invoke Error', err);
        this.client.postInvocationError(err, id).then(
          () => this.scheduleIteration(),
          (e) => fatal('posting an invocation error', e),
        );
      } else {
        this.client.postInvocationResponse('null', id).then(
          () => this.scheduleIteration(),
          (e) => fatal('posting an invocation response', e),
        );
      }
    };
  }

  // callback(err, result) and context.succeed/fail/done, exactly one of which counts per invocation.
  buildCallbackContext(id) {
    const scheduleNext = () => this.scheduleIteration();
    const postError = (err) => {
      logError('Invoke Error', err);
      this.client.postInvocationError(err, id).then(scheduleNext, (e) => fatal('posting an invocation error', e));
    };
    let isCompleteInvoked = false;
    const complete = (result) => {
      if (isCompleteInvoked) {
        console.error(
          'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
        );
        return;
      }
      isCompleteInvoked = true;
      let bodyString;
      try {
        bodyString = serializeResult(result);
      } catch (err) {
        postError(err);
        return;
      }
      this.client
        .postInvocationResponse(bodyString, id)
        .then(scheduleNext, (e) => fatal('posting an invocation response', e));
    };

    let waitForEmptyEventLoop = true;

    const callback = (err, result) => {
      beforeExitListener = () => {};
      if (err !== undefined && err !== null) {
        postError(err);
      } else if (!waitForEmptyEventLoop) {
        complete(result);
      } else {
        // Respond once the event loop has drained, like AWS: 'beforeExit' fires when nothing is left to do.
        beforeExitListener = () => {
          beforeExitListener = () => {};
          setImmediate(() => complete(result));
        };
      }
    };
    const done = (err, result) => {
      beforeExitListener = () => {};
      if (err !== undefined && err !== null) {
        postError(err);
      } else {
        complete(result);
      }
    };
    const succeed = (result) => done(null, result);
    const fail = (err) => {
      if (err === undefined || err === null) {
        done('handled');
      } else {
        done(err, null);
      }
    };

    let finished = false;
    const onlyFirst =
      (fn) =>
      (...args) => {
        if (!finished) {
          finished = true;
          fn(...args);
        }
      };
    const callbackContext = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
      succeed: onlyFirst(succeed),
      fail: onlyFirst(fail),
      done: onlyFirst(done),
    };
    return [
      onlyFirst(callback),
      callbackContext,
      () => {
        isCompleteInvoked = true;
      },
    ];
  }
}

async function main() {
  patchConsole();
  let client;
  try {
    client = new RuntimeClient(process.env.AWS_LAMBDA_RUNTIME_API);
  } catch (err) {
    fatal('configuration', err);
    return;
  }

  // Until the first invocation, failures are init errors; setErrorCallbacks replaces these per invocation.
  errorCallbacks.uncaughtException = (error) => {
    client.postInitError(error).finally(() => process.exit(129));
  };
  errorCallbacks.unhandledRejection = (error) => {
    client.postInitError(error).finally(() => process.exit(128));
  };
  process.on('uncaughtException', (error) => {
    console.error('Uncaught Exception', toFormatted(error));
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    console.error('Unhandled Promise Rejection', toFormatted(error));
    errorCallbacks.unhandledRejection(error);
  });
  process.on('beforeExit', () => beforeExitListener());

  installGlobalAwsLambda();
  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let handler;
  let meta;
  try {
    handler = await loadHandler(appRoot, process.env._HANDLER || '');
    meta = handlerMetadata(handler);
    checkCallbackDeprecation(meta);
  } catch (err) {
    // AWS reports a failed load through its uncaught-exception path: log, post the init error, exit 129.
    console.error('Uncaught Exception', toFormatted(err));
    try {
      await client.postInitError(err);
    } catch (e) {
      process.stderr.write(`sluice runtime: posting the init error: ${e}\n`);
    }
    process.exit(129);
  }
  new Runtime(client, handler, meta).scheduleIteration();
}

main();
