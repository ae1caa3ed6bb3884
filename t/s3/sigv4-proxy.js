#!/usr/bin/env node
// sigv4-proxy.js: an HTTP reverse proxy for the git-model tests that lets a
// request through to s3rver only if its AWS Signature Version 4 is right.
// s3rver 3.x does not check V4 signatures at all (it only looks the access
// key up), so without this proxy a client signing wrongly would pass.
//
//   node sigv4-proxy.js --upstream PORT --credentials FILE
//        [--port-file FILE] [--port N] [--log FILE]
//   node sigv4-proxy.js --self-test
//
// It listens on 127.0.0.1 (port 0 unless --port: the kernel picks one, and
// the proxy writes it to --port-file, through a temporary file and a
// rename, once it accepts connections). --credentials has one
// "ACCESS_KEY_ID SECRET" per line ('#' comments and blank lines allowed);
// it is read again for every request.
//
// For each request the signature is recomputed with the aws4 package (not
// libcurl's code) from the request as received: the method, the path and
// the query as sent (aws4 canonicalises them the S3 way: each path segment
// decoded then RFC 3986 encoded, '/' kept, a raw '+' read as a space:
// send %2B; query parameters decoded, encoded, sorted), the headers named in SignedHeaders (values trimmed,
// inner whitespace squeezed, repeated headers joined with ','), x-amz-date,
// and the x-amz-content-sha256 header's value as the payload hash (the body
// is not hashed for the signature: S3 semantics). The secret comes from
// --credentials, the region from the Credential scope, the service is s3.
//
// Refusals, never forwarded (the XML body is S3's <Error> document; a
// SignatureDoesNotMatch one carries the proxy's <CanonicalRequest> and
// <StringToSign>, as S3 does, to debug a client):
//   403 AccessDenied           no Authorization header (a presigned URL too)
//   403 SignatureDoesNotMatch  a malformed Authorization header or
//                              Credential scope, no or a malformed
//                              x-amz-date, no x-amz-content-sha256, a
//                              SignedHeaders list without host or x-amz-date
//                              or leaving out an x-amz-* header of the
//                              request or naming one it lacks, or a wrong
//                              signature
//   403 InvalidAccessKeyId     a key not in --credentials
//   400 InvalidArgument        x-amz-content-sha256 neither 64 hex digits
//                              nor UNSIGNED-PAYLOAD
//   501 NotImplemented         x-amz-content-sha256 STREAMING-* (aws-chunked
//                              bodies: s3rver would store the chunk framing)
// When the request has a body the proxy did not read, the refusal closes the
// connection. With "Expect: 100-continue" the check happens before the
// proxy sends "100 Continue", so a refused client need not send its body.
//
// Anything else is forwarded to 127.0.0.1:UPSTREAM with the same method,
// path, query and headers (Host included: s3rver sees 127.0.0.1:PORT, an IP,
// so it uses path-style addressing), except the hop-by-hop ones
// (Connection, Keep-Alive, Expect, ...). Bodies are streamed both ways, not
// buffered, with back-pressure; a new upstream connection per request.
//
// When x-amz-content-sha256 is 64 hex digits, the proxy hashes the body as
// it streams it and holds back the last chunk read: only when the body has
// ended and its SHA-256 is the header's does that chunk go upstream. On a
// mismatch the upstream request is aborted (its connection destroyed)
// without that chunk, so s3rver never gets a complete body and never
// answers for it, and the client gets 400 XAmzContentSHA256Mismatch (as
// from S3, with ClientComputedContentSHA256 and S3ComputedContentSHA256).
// What s3rver keeps of the cut body is up to it: stock s3rver 3.7.1 would
// keep a cut object (it writes straight into the object's file), but
// lib-s3.sh runs it with s3rver-preload.js, whose uploads are atomic: the
// key is left as it was (absent, or its old content). If s3rver answers
// before the end of the body (404 NoSuchBucket, say), that answer goes to
// the client as it is.
//
// A body checked against x-amz-content-sha256 is checked against
// x-amz-checksum-sha256 too when the request has one (S3's flexible
// checksums: the SHA-256 in base64): a mismatch is 400 BadDigest, handled
// as a wrong x-amz-content-sha256 is (nothing stored).
//
// A HEAD or GET with "x-amz-checksum-mode: ENABLED" of an object that a
// single PUT with x-amz-checksum-sha256 stored through this proxy gets
// that header back (kept in memory while the proxy runs), as from S3.
//
// --regions FILE has "BUCKET REGION" lines (read at each request): a
// request to BUCKET whose signature is right but whose Credential scope
// names another region gets 400 AuthorizationHeaderMalformed "... the
// region 'R' is wrong; expecting 'REGION'", with <Region> and the header
// x-amz-bucket-region: REGION, as from S3 (which says it in the header
// alone to a HEAD, whose answer has no body). A line "BUCKET REGION 301"
// gets 301 PermanentRedirect instead, with <Endpoint>
// BUCKET.s3.REGION.amazonaws.com and the same header, as S3 answers a
// request sent to another region's endpoint.
//
// --delays FILE has "METHOD REGEX MS" lines (read at each request): the
// answer to a METHOD request whose path?query matches the regular
// expression REGEX is held for MS milliseconds once s3rver has given it,
// so a test can act while such a request is in flight, after s3rver
// acted on it (a signal during CreateMultipartUpload, say).
//
// --log FILE gets one line per request, written just before the last byte
// of the response goes out (so a client that has its whole response finds
// its line), or when the connection is lost:
//   <start-ms> <end-ms> <method> <path?query> <status> sig=<ok|bad|missing> body=<ok|bad|unsigned|->
// start-ms is when the request's headers had arrived, end-ms when the
// response ended (milliseconds since the epoch); path?query is as sent;
// status is "-" if no response was sent. sig= is "missing" without an
// Authorization header, "ok" when the signature was checked and right,
// "bad" for every other refusal; body= is "ok" or "bad" when the body was
// checked against a hex x-amz-content-sha256, "unsigned" for
// UNSIGNED-PAYLOAD and "-" when the body was not looked at. Diagnostics
// (the canonical request of each rejected signature) go to stderr.
//
// --self-test checks the checker against AWS's published examples
// (including GET /test.txt with Range: bytes=0-9, whose signature is
// f0e8bdb8...), and that wrong signatures, secrets, paths, headers and
// payload hashes are rejected; it exits 0 if all is well, 1 otherwise.

'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const aws4 = require('aws4');

const EMPTY_SHA256 =
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// Not forwarded in either direction.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

function usage(msg) {
  if (msg) process.stderr.write(`sigv4-proxy: ${msg}\n`);
  process.stderr.write(
    'usage: sigv4-proxy.js --upstream PORT --credentials FILE ' +
      '[--port-file FILE] [--port N] [--log FILE]\n' +
      '       [--regions FILE] [--delays FILE]\n' +
      '       sigv4-proxy.js --self-test\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { port: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--upstream':
        opts.upstream = val();
        break;
      case '--credentials':
        opts.credentials = val();
        break;
      case '--port-file':
        opts.portFile = val();
        break;
      case '--port':
        opts.port = Number(val());
        break;
      case '--log':
        opts.log = val();
        break;
      case '--regions':
        opts.regions = val();
        break;
      case '--delays':
        opts.delays = val();
        break;
      case '--self-test':
        opts.selfTest = true;
        break;
      case '-h':
      case '--help':
        usage();
        break;
      default:
        usage(`unknown option '${a}'`);
    }
  }
  return opts;
}

// "AKID SECRET [SESSION-TOKEN]" lines -> Map of id -> secret; a key
// with a session token is in tokens too, and then every request with that
// key must carry x-amz-security-token with the token (signed, as all
// x-amz-* headers must be), as STS credentials must on S3.
const tokens = new Map();
function readCredentials(file) {
  const creds = new Map();
  tokens.clear();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const [id, secret, token, ...rest] = t.split(/\s+/);
    if (!secret || rest.length) throw new Error(`${file}: bad line '${t}'`);
    creds.set(id, secret);
    if (token) tokens.set(id, token);
  }
  return creds;
}

// --regions FILE: "BUCKET REGION" lines, read at each request; a missing
// file is none.
function bucketRegions(file) {
  const m = new Map();
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  for (const line of text.split('\n')) {
    const [bucket, region, how] = line.trim().split(/\s+/);
    if (bucket && region) m.set(bucket, { region, redirect: how === '301' });
  }
  return m;
}

// --delays FILE: how long to hold the answer to req, in ms (0: none).
function answerDelay(file, req) {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  for (const line of text.split('\n')) {
    const [method, re, ms] = line.trim().split(/\s+/);
    if (method === req.method && re && new RegExp(re).test(req.url)) return Number(ms) || 0;
  }
  return 0;
}

// The x-amz-checksum-sha256 of each object stored by a single PUT with
// one (path -> base64), while the proxy runs: s3rver keeps no checksum,
// so the proxy states it on HEAD and GET with x-amz-checksum-mode:
// ENABLED, as S3 does.
const checksums = new Map();

function xmlEscape(s) {
  return String(s).replace(
    /[<>&'"\r]/g,
    c =>
      ({
        '<': '&lt;',
        '>': '&gt;',
        '&': '&amp;',
        "'": '&apos;',
        '"': '&quot;',
        '\r': '&#13;',
      })[c],
  );
}

function errorXml(code, message, extra) {
  let xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>`;
  for (const [k, v] of Object.entries(extra || {}))
    xml += `<${k}>${xmlEscape(v)}</${k}>`;
  return xml + '<RequestId>sigv4-proxy</RequestId></Error>\n';
}

function refuse(status, code, message, sig, extra) {
  return { ok: false, status, code, message, sig, extra: extra || {} };
}

// The request's headers as { lowercase-name: value }, repeated headers
// joined with ',' (as SigV4 wants).
function headerMap(req) {
  const h = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const n = req.rawHeaders[i].toLowerCase();
    const v = req.rawHeaders[i + 1];
    h[n] = n in h ? `${h[n]},${v}` : v;
  }
  return h;
}

// check({ method, url, headers }, credentials): is the request's SigV4
// right? headers: lowercase names. Returns { ok: true, accessKeyId,
// payloadHash } or a refusal (see the top of the file).
function check(req, creds) {
  const h = req.headers;
  const auth = h['authorization'];
  if (auth === undefined) {
    return refuse(403, 'AccessDenied', 'Access Denied (no Authorization header)', 'missing');
  }
  const bad = msg => refuse(403, 'SignatureDoesNotMatch', msg, 'bad');
  const m = /^AWS4-HMAC-SHA256 +(.*)$/.exec(auth);
  if (!m) return bad('malformed Authorization header: not AWS4-HMAC-SHA256');
  const parts = new Map();
  for (const comp of m[1].split(',')) {
    const eq = comp.indexOf('=');
    const k = comp.slice(0, eq).trim();
    if (eq < 0 || parts.has(k)) {
      return bad(`malformed Authorization header near '${comp.trim()}'`);
    }
    parts.set(k, comp.slice(eq + 1).trim());
  }
  const credential = parts.get('Credential');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (parts.size !== 3 || !credential || !signedHeaders || !signature) {
    return bad('malformed Authorization header: it needs exactly Credential, SignedHeaders and Signature');
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) {
    return bad('malformed Authorization header: Signature is not 64 lowercase hex digits');
  }
  const scope = credential.split('/');
  if (
    scope.length !== 5 ||
    !scope[0] ||
    !/^\d{8}$/.test(scope[1]) ||
    !scope[2] ||
    scope[3] !== 's3' ||
    scope[4] !== 'aws4_request'
  ) {
    return bad(`malformed Credential '${credential}': want KEY/YYYYMMDD/REGION/s3/aws4_request`);
  }
  const [accessKeyId, scopeDate, region] = scope;
  const secret = creds.get(accessKeyId);
  if (secret === undefined) {
    return refuse(
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      'bad',
      { AWSAccessKeyId: accessKeyId },
    );
  }
  if (tokens.has(accessKeyId) && h['x-amz-security-token'] !== tokens.get(accessKeyId)) {
    return refuse(
      403,
      'InvalidToken',
      'The provided token is malformed or otherwise invalid.',
      'bad',
    );
  }
  const amzDate = h['x-amz-date'];
  if (amzDate === undefined) return bad('no x-amz-date header');
  if (!/^\d{8}T\d{6}Z$/.test(amzDate)) {
    return bad(`malformed x-amz-date '${amzDate}': want YYYYMMDDTHHMMSSZ`);
  }
  if (amzDate.slice(0, 8) !== scopeDate) {
    return bad(`the Credential scope's date ${scopeDate} is not x-amz-date's`);
  }
  const payloadHash = h['x-amz-content-sha256'];
  if (payloadHash === undefined) return bad('no x-amz-content-sha256 header');
  if (/^STREAMING-/.test(payloadHash)) {
    return refuse(
      501,
      'NotImplemented',
      `x-amz-content-sha256 ${payloadHash}: aws-chunked bodies are not supported by the test harness`,
      'bad',
    );
  }
  if (payloadHash !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-fA-F]{64}$/.test(payloadHash)) {
    return refuse(
      400,
      'InvalidArgument',
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.',
      'bad',
      { ArgumentName: 'x-amz-content-sha256', ArgumentValue: payloadHash },
    );
  }
  const names = signedHeaders.split(';');
  const sorted = [...names].sort();
  if (
    names.some(n => !n || n !== n.toLowerCase()) ||
    names.join(';') !== sorted.join(';') ||
    new Set(names).size !== names.length
  ) {
    return bad(`SignedHeaders '${signedHeaders}' is not a sorted list of distinct lowercase names`);
  }
  for (const need of ['host', 'x-amz-date']) {
    if (!names.includes(need)) return bad(`SignedHeaders '${signedHeaders}' lacks ${need}`);
  }
  for (const n of Object.keys(h)) {
    if (n.startsWith('x-amz-') && !names.includes(n)) {
      return bad(`header ${n} is present but not signed (SignedHeaders '${signedHeaders}')`);
    }
  }
  const headers = {};
  const include = Object.create(null);
  for (const n of names) {
    if (!(n in h)) return bad(`signed header ${n} is not in the request`);
    headers[n] = h[n];
    include[n] = true; // aws4 would leave out range, user-agent, ...
  }

  let signer, expected, canonical, stringToSign;
  try {
    signer = new aws4.RequestSigner(
      {
        method: req.method,
        path: req.url,
        headers,
        service: 's3',
        region,
        doNotModifyHeaders: true,
        extraHeadersToInclude: include,
      },
      { accessKeyId, secretAccessKey: secret },
    );
    signer.datetime = amzDate; // else aws4 takes the time now
    canonical = signer.canonicalString();
    stringToSign = signer.stringToSign();
    expected = signer.signature();
  } catch (err) {
    return bad(`cannot canonicalise '${req.url}': ${err.message}`);
  }
  if (signer.signedHeaders() !== signedHeaders) {
    return bad(`internal: aws4 signed '${signer.signedHeaders()}', not '${signedHeaders}'`);
  }
  if (
    !crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
  ) {
    return refuse(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      'bad',
      {
        AWSAccessKeyId: accessKeyId,
        StringToSign: stringToSign,
        SignatureProvided: signature,
        CanonicalRequest: canonical,
      },
    );
  }
  return {
    ok: true,
    accessKeyId,
    payloadHash: payloadHash === 'UNSIGNED-PAYLOAD' ? payloadHash : payloadHash.toLowerCase(),
    canonical,
  };
}

// --self-test ---------------------------------------------------------------

function selfTest() {
  const AKID = 'AKIAIOSFODNN7EXAMPLE';
  const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const creds = new Map([[AKID, SECRET]]);
  const scope = `${AKID}/20130524/us-east-1/s3/aws4_request`;
  const authz = (signed, sig) =>
    `AWS4-HMAC-SHA256 Credential=${scope},SignedHeaders=${signed},Signature=${sig}`;
  // The examples of AWS's "Signature Calculations for the Authorization
  // Header: Transferring Payload in a Single Chunk" (S3 API reference).
  const getObject = {
    method: 'GET',
    url: '/test.txt',
    headers: {
      host: 'examplebucket.s3.amazonaws.com',
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-date': '20130524T000000Z',
      authorization: authz(
        'host;range;x-amz-content-sha256;x-amz-date',
        'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
      ),
    },
  };
  const getObjectCanonical = [
    'GET',
    '/test.txt',
    '',
    'host:examplebucket.s3.amazonaws.com',
    'range:bytes=0-9',
    `x-amz-content-sha256:${EMPTY_SHA256}`,
    'x-amz-date:20130524T000000Z',
    '',
    'host;range;x-amz-content-sha256;x-amz-date',
    EMPTY_SHA256,
  ].join('\n');
  const putObject = {
    method: 'PUT',
    url: '/test%24file.text',
    headers: {
      host: 'examplebucket.s3.amazonaws.com',
      date: 'Fri, 24 May 2013 00:00:00 GMT',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256':
        '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
      authorization: authz(
        'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
        '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
      ),
    },
  };
  const getLifecycle = {
    method: 'GET',
    url: '/?lifecycle',
    headers: {
      host: 'examplebucket.s3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-content-sha256': EMPTY_SHA256,
      authorization: authz(
        'host;x-amz-content-sha256;x-amz-date',
        'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
      ),
    },
  };
  const listObjects = {
    method: 'GET',
    url: '/?max-keys=2&prefix=J',
    headers: {
      host: 'examplebucket.s3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-content-sha256': EMPTY_SHA256,
      authorization: authz(
        'host;x-amz-content-sha256;x-amz-date',
        '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
      ),
    },
  };

  let failures = 0;
  const expect = (what, cond, detail) => {
    process.stdout.write(`${cond ? 'ok' : 'FAILED'}: ${what}\n`);
    if (!cond) {
      failures++;
      if (detail) process.stdout.write(`  ${JSON.stringify(detail)}\n`);
    }
  };
  const variant = (r, f) => {
    const v = { method: r.method, url: r.url, headers: { ...r.headers } };
    f(v);
    return v;
  };
  const accepts = (what, r, c = creds) => {
    const res = check(r, c);
    expect(`accepts ${what}`, res.ok, res);
    return res;
  };
  const rejects = (what, r, code, c = creds) => {
    const res = check(r, c);
    expect(`rejects ${what} (${code})`, !res.ok && res.code === code, res);
  };

  const res = accepts('the GET /test.txt example (Range: bytes=0-9)', getObject);
  expect(
    "computes AWS's canonical request for it",
    res.canonical === getObjectCanonical,
    res.canonical,
  );
  accepts('the PUT /test$file.text example', putObject);
  accepts('the GET ?lifecycle example', getLifecycle);
  accepts('the GET ?max-keys=2&prefix=J example', listObjects);

  // Flip the last hex digit of the signature.
  rejects('a wrong signature', variant(getObject, v => {
    v.headers.authorization = v.headers.authorization.replace(
      /41$/, '42');
  }), 'SignatureDoesNotMatch');
  rejects('a wrong secret', getObject, 'SignatureDoesNotMatch',
    new Map([[AKID, SECRET.replace(/Y$/, 'Z')]]));
  rejects('an unknown key', getObject, 'InvalidAccessKeyId', new Map());
  rejects('another path', variant(getObject, v => { v.url = '/test.txs'; }),
    'SignatureDoesNotMatch');
  rejects('another method', variant(getObject, v => { v.method = 'HEAD'; }),
    'SignatureDoesNotMatch');
  rejects('an added query', variant(getObject, v => { v.url += '?acl'; }),
    'SignatureDoesNotMatch');
  rejects('another query value', variant(listObjects, v => {
    v.url = '/?max-keys=3&prefix=J';
  }), 'SignatureDoesNotMatch');
  rejects('another signed header value', variant(getObject, v => {
    v.headers.range = 'bytes=0-10';
  }), 'SignatureDoesNotMatch');
  rejects('another host', variant(getObject, v => {
    v.headers.host = 'otherbucket.s3.amazonaws.com';
  }), 'SignatureDoesNotMatch');
  rejects('another x-amz-date', variant(getObject, v => {
    v.headers['x-amz-date'] = '20130524T000001Z';
  }), 'SignatureDoesNotMatch');
  rejects('another payload hash', variant(putObject, v => {
    v.headers['x-amz-content-sha256'] = EMPTY_SHA256;
  }), 'SignatureDoesNotMatch');
  rejects('another region', variant(getObject, v => {
    v.headers.authorization = v.headers.authorization.replace(
      'us-east-1', 'eu-west-1');
  }), 'SignatureDoesNotMatch');
  rejects('an unsigned x-amz-* header', variant(getObject, v => {
    v.headers['x-amz-meta-x'] = 'y';
  }), 'SignatureDoesNotMatch');
  rejects('a missing x-amz-content-sha256', variant(getObject, v => {
    delete v.headers['x-amz-content-sha256'];
  }), 'SignatureDoesNotMatch');
  rejects('a malformed Authorization', variant(getObject, v => {
    v.headers.authorization = 'AWS4-HMAC-SHA256 Credential=x';
  }), 'SignatureDoesNotMatch');
  rejects('a missing Authorization', variant(getObject, v => {
    delete v.headers.authorization;
  }), 'AccessDenied');
  // An unsigned header may change: it is not in the signature.
  accepts('an added unsigned header', variant(getObject, v => {
    v.headers['user-agent'] = 'x';
  }));

  process.stdout.write(failures ? `${failures} check(s) failed\n` : 'all checks passed\n');
  return failures ? 1 : 0;
}

// The proxy ----------------------------------------------------------------

function runProxy(opts) {
  if (!opts.upstream || !opts.credentials) usage('--upstream and --credentials are required');
  const upstreamPort = Number(opts.upstream);
  if (!Number.isInteger(upstreamPort) || upstreamPort <= 0 || upstreamPort > 65535) {
    usage(`bad --upstream '${opts.upstream}'`);
  }
  readCredentials(opts.credentials); // fail early on a bad file
  // A fresh connection for every request: no race with s3rver's
  // keep-alive timeout closing a socket we are about to reuse.
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const logFd = opts.log ? fs.openSync(opts.log, 'a') : null;
  const warn = msg => process.stderr.write(`${new Date().toISOString()} ${msg}\n`);

  const server = http.createServer();
  server.requestTimeout = 0; // bodies of hundreds of MB on slow machines
  server.keepAliveTimeout = 30000;

  const handle = (req, res, expectContinue) => {
    const start = Date.now();
    let status = '-';
    let sigState = 'missing';
    let bodyState = '-';
    let logged = false;
    const log = () => {
      if (logged) return;
      logged = true;
      if (logFd === null) return;
      fs.writeSync(
        logFd,
        `${start} ${Date.now()} ${req.method} ${req.url} ${status} sig=${sigState} body=${bodyState}\n`,
      );
    };
    // Log when the client goes away before its response ended.
    res.on('close', log);

    const bodyUnread = () =>
      !req.complete &&
      (req.headers['transfer-encoding'] !== undefined ||
        Number(req.headers['content-length'] || 0) > 0);
    const sendError = (code, xmlCode, message, extra, close, more) => {
      const body = errorXml(xmlCode, message, extra);
      status = code;
      const headers = {
        'Content-Type': 'application/xml',
        'Content-Length': Buffer.byteLength(body),
        ...more,
      };
      if (close) headers.Connection = 'close';
      res.writeHead(code, headers);
      log();
      res.end(body);
    };

    let creds;
    try {
      creds = readCredentials(opts.credentials);
    } catch (err) {
      warn(`cannot read the credentials: ${err.message}`);
      sigState = 'bad';
      sendError(500, 'InternalError', `proxy: ${err.message}`, {}, bodyUnread());
      return;
    }
    const verdict = check(
      { method: req.method, url: req.url, headers: headerMap(req) },
      creds,
    );
    // A bucket in another region, as S3 answers a request signed for the
    // wrong one (after the signature is found right, S3 checks the scope).
    if (verdict.ok && opts.regions) {
      const bucket = decodeURIComponent(req.url.split('?')[0].split('/')[1] || '');
      const scoped = (headerMap(req).authorization.match(/Credential=[^/]+\/\d{8}\/([^/]+)\//) || [])[1];
      const { region: want, redirect } = bucketRegions(opts.regions).get(bucket) || {};
      if (want && scoped !== want && redirect) {
        verdict.ok = false;
        Object.assign(verdict, refuse(
          301,
          'PermanentRedirect',
          'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
          'bad',
          { Endpoint: `${bucket}.s3.${want}.amazonaws.com`, Bucket: bucket },
        ));
        verdict.headers = { 'x-amz-bucket-region': want };
      } else if (want && scoped !== want) {
        verdict.ok = false;
        Object.assign(verdict, refuse(
          400,
          'AuthorizationHeaderMalformed',
          `The authorization header is malformed; the region '${scoped}' is wrong; expecting '${want}'`,
          'bad',
          { Region: want },
        ));
        verdict.headers = { 'x-amz-bucket-region': want };
      }
    }
    sigState = verdict.ok ? 'ok' : verdict.sig;
    if (!verdict.ok) {
      if (verdict.extra.CanonicalRequest !== undefined) {
        warn(
          `${req.method} ${req.url}: signature mismatch; canonical request:\n` +
            `${verdict.extra.CanonicalRequest}\nstring to sign:\n${verdict.extra.StringToSign}`,
        );
      } else {
        warn(`${req.method} ${req.url}: ${verdict.code}: ${verdict.message}`);
      }
      sendError(verdict.status, verdict.code, verdict.message, verdict.extra, bodyUnread(),
        verdict.headers);
      return;
    }
    if (expectContinue) res.writeContinue();

    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(req.rawHeaders[i].toLowerCase())) {
        headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
      }
    }
    let upAborted = false;
    const up = http.request({
      host: '127.0.0.1',
      port: upstreamPort,
      method: req.method,
      path: req.url,
      headers,
      agent,
    });
    const abortUpstream = () => {
      upAborted = true;
      up.destroy();
    };
    up.on('response', upRes => {
      const delay = opts.delays ? answerDelay(opts.delays, req) : 0;
      if (delay > 0) setTimeout(() => answer(upRes), delay);
      else answer(upRes);
    });
    const answer = upRes => {
      const h = [];
      for (let i = 0; i < upRes.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(upRes.rawHeaders[i].toLowerCase())) {
          h.push(upRes.rawHeaders[i], upRes.rawHeaders[i + 1]);
        }
      }
      if (res.headersSent || res.destroyed) {
        upRes.resume();
        return;
      }
      const key = req.url.split('?')[0];
      const sum = req.headers['x-amz-checksum-sha256'];
      if (upRes.statusCode === 200 && req.method === 'PUT' && !req.url.includes('?')) {
        if (sum !== undefined) checksums.set(key, sum);
        else checksums.delete(key);
      } else if (upRes.statusCode === 204 && req.method === 'DELETE') {
        checksums.delete(key);
      } else if (
        upRes.statusCode === 200 &&
        (req.method === 'HEAD' || req.method === 'GET') &&
        String(req.headers['x-amz-checksum-mode']).toUpperCase() === 'ENABLED' &&
        checksums.has(key)
      ) {
        h.push('x-amz-checksum-sha256', checksums.get(key));
      }
      status = upRes.statusCode;
      res.writeHead(upRes.statusCode, upRes.statusMessage, h);
      upRes.pipe(res, { end: false });
      upRes.on('end', () => {
        log();
        res.end();
      });
      upRes.on('error', () => res.destroy());
      upRes.on('aborted', () => res.destroy());
    };
    up.on('error', err => {
      if (upAborted) return;
      warn(`${req.method} ${req.url}: upstream: ${err.message}`);
      if (!res.headersSent && !res.destroyed) {
        sendError(502, 'BadGateway', `proxy: upstream s3rver: ${err.message}`, {}, !req.complete);
      } else {
        res.destroy();
      }
    });
    // The client went away before the end of its response.
    res.on('close', () => {
      if (!res.writableFinished) abortUpstream();
    });

    if (verdict.payloadHash === 'UNSIGNED-PAYLOAD') {
      bodyState = 'unsigned';
      req.pipe(up);
      return;
    }
    // Hash the body while streaming it, holding back the last chunk until
    // the hash is known to be right.
    const hash = crypto.createHash('sha256');
    let held = null;
    req.on('data', chunk => {
      hash.update(chunk);
      if (held && !up.write(held)) {
        req.pause();
        up.once('drain', () => req.resume());
      }
      held = chunk;
    });
    req.on('end', () => {
      const digest = hash.digest();
      const got = digest.toString('hex');
      const sum = req.headers['x-amz-checksum-sha256'];
      if (got === verdict.payloadHash && sum !== undefined && sum !== digest.toString('base64')) {
        bodyState = 'bad';
        abortUpstream();
        if (!res.headersSent && !res.destroyed) {
          sendError(
            400,
            'BadDigest',
            'The SHA256 you specified did not match the calculated checksum.',
            {},
            false,
          );
        } else {
          res.destroy();
        }
        return;
      }
      if (got === verdict.payloadHash) {
        bodyState = 'ok';
        up.end(held || undefined);
        return;
      }
      bodyState = 'bad';
      abortUpstream();
      warn(`${req.method} ${req.url}: body sha256 ${got}, not ${verdict.payloadHash}: upstream request aborted`);
      if (!res.headersSent && !res.destroyed) {
        sendError(
          400,
          'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          {
            ClientComputedContentSHA256: verdict.payloadHash,
            S3ComputedContentSHA256: got,
          },
          false,
        );
      } else {
        res.destroy();
      }
    });
    req.on('aborted', abortUpstream);
    req.on('error', abortUpstream);
  };

  server.on('request', (req, res) => handle(req, res, false));
  server.on('checkContinue', (req, res) => handle(req, res, true));
  server.listen(opts.port, '127.0.0.1', () => {
    const port = server.address().port;
    if (opts.portFile) {
      const tmp = path.join(
        path.dirname(opts.portFile),
        `.${path.basename(opts.portFile)}.${process.pid}.tmp`,
      );
      fs.writeFileSync(tmp, `${port}\n`);
      fs.renameSync(tmp, opts.portFile);
    }
    warn(`listening on 127.0.0.1:${port}, upstream 127.0.0.1:${upstreamPort}`);
  });
  server.on('error', err => {
    warn(`cannot listen: ${err.message}`);
    process.exit(1);
  });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.on(sig, () => process.exit(0));
  }
}

const opts = parseArgs(process.argv.slice(2));
if (opts.selfTest) {
  process.exit(selfTest());
}
runProxy(opts);
