#!/usr/bin/env node
// aws-doubles.js: test doubles, on 127.0.0.1, for the AWS services that
// hand out credentials and that s3rver lacks: STS, the ECS/EKS container
// credentials endpoint and the EC2 instance metadata service (IMDSv2).
// They stand in for AWS so the tests can point git-model at them with the
// SDKs' own environment variables (AWS_ENDPOINT_URL_STS,
// AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_EC2_METADATA_SERVICE_ENDPOINT).
//
//   node aws-doubles.js --credentials FILE --settings FILE --port-file FILE
//        --log FILE
//
// Every credential handed out is a new "ASIADBL<n> SECRET TOKEN" line
// appended to --credentials, the file sigv4-proxy.js reads at each
// request, so S3 accepts it (with its token, as STS keys) at once.
// --settings is JSON, read at each request (a missing file is {}):
//   duration          seconds until the credentials handed out expire
//                     (default 3600; negative: already expired)
//   webIdentityToken  the token AssumeRoleWithWebIdentity accepts
//   containerToken    the Authorization header the container endpoint
//                     wants (none: any)
//   role              the instance role's name for IMDS (default
//                     "test-role")
//
// Routes:
//   POST /            STS, form body, Version=2011-06-15:
//     Action=AssumeRole  SigV4 for service "sts" checked with aws4 against
//                        --credentials (body hashed); 403
//                        SignatureDoesNotMatch / InvalidClientTokenId
//     Action=AssumeRoleWithWebIdentity  unsigned; WebIdentityToken must be
//                        the settings' (else 400 InvalidIdentityToken)
//   GET /container/credentials  the container endpoint (401 without the
//                        right Authorization)
//   PUT /latest/api/token  IMDSv2 session token (needs
//                        X-aws-ec2-metadata-token-ttl-seconds)
//   GET /latest/meta-data/iam/security-credentials/[ROLE]  with the
//                        session token in X-aws-ec2-metadata-token (401
//                        without it, as IMDSv2-only instances answer)
//
// --log gets one line per request:
//   <method> <path> <what> <status> [key=<access key id that signed>]
// where <what> is the STS Action, "container", "imds-token", "imds-role"
// or "imds-creds". No secret is logged.

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const aws4 = require('aws4');

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    o[k.replace(/-(.)/g, (_, c) => c.toUpperCase())] = argv[i + 1];
  }
  for (const need of ['credentials', 'settings', 'portFile', 'log']) {
    if (!o[need]) {
      console.error(`aws-doubles.js: --${need} is required`);
      process.exit(2);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
let issued = 0;

function settings() {
  try {
    return JSON.parse(fs.readFileSync(opts.settings, 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return {};
    throw err;
  }
}

function secrets() {
  const m = new Map();
  for (const line of fs.readFileSync(opts.credentials, 'utf8').split('\n')) {
    const [id, secret] = line.trim().split(/\s+/);
    if (id && secret && !id.startsWith('#')) m.set(id, secret);
  }
  return m;
}

function issue() {
  const s = settings();
  const id = `ASIADBL${process.pid}X${++issued}`;
  const secret = crypto.randomBytes(15).toString('hex');
  const token = crypto.randomBytes(24).toString('base64').replace(/[+/=]/g, 'x');
  fs.appendFileSync(opts.credentials, `${id} ${secret} ${token}\n`);
  const duration = s.duration === undefined ? 3600 : s.duration;
  const expiration = new Date(Date.now() + duration * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  return { AccessKeyId: id, SecretAccessKey: secret, Token: token, Expiration: expiration };
}

function log(req, what, status, extra) {
  fs.appendFileSync(opts.log, `${req.method} ${req.url.split('?')[0]} ${what} ${status}${extra ? ' ' + extra : ''}\n`);
}

function stsError(res, status, code, message) {
  res.writeHead(status, { 'Content-Type': 'text/xml' });
  res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error></ErrorResponse>\n`);
}

// The SigV4 of a signed STS request: the key that signed it, or a refusal.
function checkSts(req, body) {
  const h = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const n = req.rawHeaders[i].toLowerCase();
    h[n] = n in h ? `${h[n]},${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1];
  }
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/sts\/aws4_request, *SignedHeaders=([^,]+), *Signature=([0-9a-f]{64})$/.exec(h.authorization || '');
  if (!m) return { code: 'IncompleteSignature', message: 'no SigV4 for sts' };
  const [, id, , region, signed, signature] = m;
  const secret = secrets().get(id);
  if (!secret) return { code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' };
  const headers = {};
  const include = Object.create(null);
  for (const n of signed.split(';')) {
    headers[n] = h[n];
    include[n] = true;
  }
  const signer = new aws4.RequestSigner(
    { method: req.method, path: req.url, headers, body, service: 'sts', region,
      doNotModifyHeaders: true, extraHeadersToInclude: include },
    { accessKeyId: id, secretAccessKey: secret });
  signer.datetime = h['x-amz-date'];
  const expected = signer.signature();
  if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature)))
    return { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' };
  return { id };
}

function sts(req, res, body) {
  const form = new URLSearchParams(body);
  const action = form.get('Action');
  let signer = '';
  if (form.get('Version') !== '2011-06-15' || !form.get('RoleArn') || !form.get('RoleSessionName')) {
    log(req, action, 400);
    return stsError(res, 400, 'MissingParameter', 'Version, RoleArn and RoleSessionName are required');
  }
  if (action === 'AssumeRole') {
    const c = checkSts(req, body);
    if (!c.id) {
      log(req, action, 403);
      return stsError(res, 403, c.code, c.message);
    }
    signer = `key=${c.id}`;
  } else if (action === 'AssumeRoleWithWebIdentity') {
    if (req.headers.authorization || form.get('WebIdentityToken') !== settings().webIdentityToken) {
      log(req, action, 400);
      return stsError(res, 400, 'InvalidIdentityToken', 'The web identity token is not the one expected');
    }
  } else {
    log(req, action, 400);
    return stsError(res, 400, 'InvalidAction', 'unknown action');
  }
  const cr = issue();
  log(req, action, 200, `${signer} role=${form.get('RoleArn')} session=${form.get('RoleSessionName')}`);
  res.writeHead(200, { 'Content-Type': 'text/xml' });
  res.end(`<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result><Credentials>` +
    `<AccessKeyId>${cr.AccessKeyId}</AccessKeyId><SecretAccessKey>${cr.SecretAccessKey}</SecretAccessKey>` +
    `<SessionToken>${cr.Token}</SessionToken><Expiration>${cr.Expiration}</Expiration></Credentials>` +
    `</${action}Result></${action}Response>\n`);
}

const imdsTokens = new Set();

function handle(req, res, body) {
  const path = req.url.split('?')[0];
  const json = (what, status, obj) => {
    log(req, what, status);
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(typeof obj === 'string' ? obj : JSON.stringify(obj));
  };
  if (req.method === 'POST' && path === '/') return sts(req, res, body);
  if (req.method === 'GET' && path === '/container/credentials') {
    const want = settings().containerToken;
    if (want !== undefined && req.headers.authorization !== want)
      return json('container', 401, { message: 'bad authorization token' });
    return json('container', 200, issue());
  }
  if (req.method === 'PUT' && path === '/latest/api/token') {
    if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return json('imds-token', 400, '');
    const t = crypto.randomBytes(16).toString('hex');
    imdsTokens.add(t);
    log(req, 'imds-token', 200);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    return res.end(t);
  }
  const m = /^\/latest\/meta-data\/iam\/security-credentials\/(.*)$/.exec(path);
  if (req.method === 'GET' && m) {
    const what = m[1] ? 'imds-creds' : 'imds-role';
    if (!imdsTokens.has(req.headers['x-aws-ec2-metadata-token'])) return json(what, 401, '');
    const role = settings().role || 'test-role';
    if (!m[1]) return json(what, 200, role);
    if (m[1] !== role) return json(what, 404, '');
    return json(what, 200, Object.assign({ Code: 'Success', Type: 'AWS-HMAC' }, issue()));
  }
  json('unknown', 404, '');
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    try {
      handle(req, res, Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      console.error(err);
      res.writeHead(500);
      res.end();
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  const tmp = `${opts.portFile}.tmp`;
  fs.writeFileSync(tmp, String(server.address().port));
  fs.renameSync(tmp, opts.portFile);
});
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => process.exit(0));
