// s3rver-preload.js: loaded into s3rver 3.7.1 by lib-s3.sh with
//
//   S3RVER_CREDENTIALS=FILE node --require s3rver-preload.js \
//	node_modules/s3rver/bin/s3rver.js ...
//
// (so the process is still s3rver's) to bring it closer to S3 where
// git-model's client depends on it:
//
// 1. Keys. s3rver knows one key pair, S3RVER/S3RVER, and answers
//    InvalidAccessKeyId to any other key (it never checks a V4 signature,
//    only that the key exists: sigv4-proxy.js does the checking). Every
//    "ACCESS_KEY_ID SECRET" line of $S3RVER_CREDENTIALS is added to its
//    account, so the proxy's other keys work end to end; the file is read
//    again for a key s3rver does not know yet.
//
// 2. Atomic uploads. s3rver writes a PutObject or UploadPart body straight
//    into the object's (or part's) file, and an object exists as soon as
//    its file does: a client that goes away mid-body (or the proxy aborting
//    a body whose SHA-256 is wrong) would leave a cut object that GET,
//    HEAD and listings show, or a cut part. S3 keeps nothing of such an
//    upload. Here the body goes to a temporary file beside the object
//    ('.<name>.<random>.part', which s3rver's listings skip), renamed over
//    the object only once the whole body is in, removed if it ends early.
//
// 3. Multipart uploads. s3rver has CreateMultipartUpload, UploadPart and
//    CompleteMultipartUpload, but AbortMultipartUpload is 405
//    MethodNotAllowed, UploadPart accepts any uploadId, and Complete takes
//    the key the upload was created for whatever the URL says, ignores the
//    parts' ETags and sizes, and kills the whole server (an unhandled
//    ENOENT) when a part was never uploaded. Here, as on S3:
//    - DELETE /bucket/key?uploadId=ID aborts the upload: 204, its parts gone;
//    - an uploadId that is not an upload of that bucket and key is 404
//      NoSuchUpload (for UploadPart, Complete and Abort);
//    - partNumber must be 1..10000 (400 InvalidArgument);
//    - Complete wants the parts in ascending order (400 InvalidPartOrder),
//      each uploaded and with its ETag (400 InvalidPart), and every part
//      but the last at least $S3RVER_MIN_PART_SIZE bytes, 5 MiB by default
//      (400 EntityTooSmall); a failed Complete leaves the upload as it was.
//    - ListMultipartUploads (GET /bucket?uploads, 501 NotImplemented in
//      s3rver) lists the uploads neither completed nor aborted, as S3
//      does: sorted by key, then by when they began (<Initiated>, the
//      time their "key" file was written: a test may set it with touch),
//      with prefix, key-marker, upload-id-marker, max-uploads (at most
//      $S3RVER_MAX_UPLOADS a page, 1000 by default, as on S3) and
//      encoding-type=url; a delimiter is 501 NotImplemented.
//    Still as in s3rver: ListParts (GET ?uploadId) is 405, and the
//    ETag of a completed object is the MD5 of its content, not S3's
//    "<md5 of the parts' md5s>-<count>".

'use strict';

const crypto = require('crypto');
const fs = require('fs-extra');
const path = require('path');
const { pipeline, Transform } = require('stream');

const s3rverDir = path.dirname(require.resolve('s3rver/package.json', {
  paths: [__dirname],
}));
const AWSAccount = require(path.join(s3rverDir, 'lib/models/account'));
const FilesystemStore = require(path.join(s3rverDir, 'lib/stores/filesystem'));
const S3Error = require(path.join(s3rverDir, 'lib/models/error'));
const router = require(path.join(s3rverDir, 'lib/routes'));

const MIN_PART_SIZE = Number(process.env.S3RVER_MIN_PART_SIZE || 5 * 1024 * 1024);
const MAX_UPLOADS = Number(process.env.S3RVER_MAX_UPLOADS || 1000);

function readKeys() {
  const text = fs.readFileSync(process.env.S3RVER_CREDENTIALS, 'utf8');
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const [id, secret] = t.split(/\s+/);
    if (id && secret) AWSAccount.DUMMY_ACCOUNT.createKeyPair(id, secret);
  }
}
if (process.env.S3RVER_CREDENTIALS) {
  readKeys();
  // A key added to the file later (aws-doubles.js hands out temporary
  // ones) is read when a request first uses it.
  const get = AWSAccount.registry.get.bind(AWSAccount.registry);
  AWSAccount.registry.get = id => {
    if (!AWSAccount.registry.has(id)) readKeys();
    return get(id);
  };
}

// Copy the stream (or Buffer) content into a new temporary file beside
// dest ('.<name of dest>.<random>.part': s3rver's listings take only names
// ending in "._S3rver_object"). Resolve to { tmp, size, md5 } once all of
// it is on disk; if content ends early or fails, remove the file and
// reject.
async function stage(dest, content) {
  await fs.mkdirp(path.dirname(dest));
  const tmp = path.join(
    path.dirname(dest),
    `.${path.basename(dest)}.${crypto.randomBytes(6).toString('hex')}.part`,
  );
  const md5 = crypto.createHash('md5');
  let size = 0;
  const counter = new Transform({
    transform(chunk, encoding, callback) {
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  if (Buffer.isBuffer(content)) {
    const buffer = content;
    content = counter;
    buffer.length ? counter.end(buffer) : counter.end();
  } else {
    content = [content, counter];
  }
  try {
    await new Promise((resolve, reject) =>
      pipeline(...[].concat(content), fs.createWriteStream(tmp), err =>
        err ? reject(err) : resolve()),
    );
  } catch (err) {
    await fs.remove(tmp).catch(() => {});
    throw err;
  }
  return { tmp, size, md5: md5.digest('hex') };
}

// s3rver's putObject, atomic. The metadata goes in before the object's
// file: without that file s3rver sees no object.
FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  const { tmp, size, md5 } = await stage(objectPath, object.content);
  try {
    await this.putMetadata(object.bucket, object.key, object.metadata, md5);
    await fs.rename(tmp, objectPath);
  } catch (err) {
    await fs.remove(tmp).catch(() => {});
    throw err;
  }
  return { size, md5 };
};

// s3rver's putPart, atomic.
FilesystemStore.prototype.putPart = async function putPart(
  bucket,
  uploadId,
  partNumber,
  content,
) {
  const partPath = path.join(
    this.getResourcePath(bucket, undefined, 'uploads'),
    uploadId,
    partNumber.toString(),
  );
  const { tmp, size, md5 } = await stage(partPath, content);
  try {
    await fs.writeFile(`${partPath}.md5`, md5);
    await fs.rename(tmp, partPath);
  } catch (err) {
    await fs.remove(tmp).catch(() => {});
    throw err;
  }
  return { size, md5 };
};

// 3. Multipart uploads.

function noSuchUpload(uploadId) {
  return new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or ' +
      'the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
}

// The directory of upload ID of bucket/key, or NoSuchUpload.
async function uploadDir(store, bucket, key, uploadId) {
  if (typeof uploadId !== 'string' || !/^[0-9a-f]{32}$/.test(uploadId)) {
    throw noSuchUpload(String(uploadId));
  }
  const dir = path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  let storedKey;
  try {
    storedKey = await fs.readFile(path.join(dir, 'key'), 'utf8');
  } catch (err) {
    throw noSuchUpload(uploadId);
  }
  if (storedKey !== key) throw noSuchUpload(uploadId);
  return dir;
}

function decode(s) {
  try {
    return decodeURIComponent(s);
  } catch (err) {
    return s;
  }
}

// ListMultipartUploads: GET /bucket?uploads (see the top of the file).
async function listUploads(ctx, bucket) {
  const q = ctx.query;
  if (q.delimiter !== undefined) {
    throw new S3Error(
      'NotImplemented',
      'A delimiter in ListMultipartUploads is not implemented by the test harness',
    );
  }
  const prefix = q.prefix || '';
  const keyMarker = q['key-marker'] || '';
  const idMarker = q['upload-id-marker'] || '';
  let max = q['max-uploads'] === undefined ? 1000 : Number(q['max-uploads']);
  if (!Number.isInteger(max) || max < 0) {
    throw new S3Error('InvalidArgument', 'max-uploads must be an integer, 0 or more', {
      ArgumentName: 'max-uploads',
      ArgumentValue: String(q['max-uploads']),
    });
  }
  const page = Math.min(max, MAX_UPLOADS);
  if (!(await fs.pathExists(path.join(ctx.store.rootDirectory, bucket)))) {
    throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', {
      BucketName: bucket,
    });
  }
  const root = ctx.store.getResourcePath(bucket, undefined, 'uploads');
  let ids = [];
  try {
    ids = await fs.readdir(root);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  const all = [];
  for (const id of ids) {
    if (!/^[0-9a-f]{32}$/.test(id)) continue;
    try {
      const file = path.join(root, id, 'key');
      const key = await fs.readFile(file, 'utf8');
      const { mtime } = await fs.stat(file);
      all.push({ key, id, initiated: mtime });
    } catch (err) {
      // aborted or completed meanwhile
    }
  }
  all.sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 :
      a.initiated - b.initiated || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let from = 0;
  if (keyMarker) {
    from = all.findIndex(u => u.key > keyMarker);
    if (idMarker) {
      const at = all.findIndex(u => u.key === keyMarker && u.id === idMarker);
      if (at >= 0) from = at + 1;
    }
    if (from < 0) from = all.length;
  }
  const matching = all.slice(from).filter(u => u.key.startsWith(prefix));
  const listed = matching.slice(0, page);
  const truncated = matching.length > listed.length;
  const enc = q['encoding-type'] === 'url' ? s => encodeURIComponent(s).replace(/%2F/g, '/') : s => s;
  const owner = { ID: String(AWSAccount.DUMMY_ACCOUNT.id), DisplayName: AWSAccount.DUMMY_ACCOUNT.displayName };
  const result = {
    '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
    Bucket: bucket,
    KeyMarker: enc(keyMarker),
    UploadIdMarker: idMarker,
  };
  if (truncated) {
    result.NextKeyMarker = enc(listed[listed.length - 1].key);
    result.NextUploadIdMarker = listed[listed.length - 1].id;
  }
  if (q['encoding-type'] === 'url') result.EncodingType = 'url';
  result.MaxUploads = page;
  result.IsTruncated = truncated ? 'true' : 'false';
  result.Prefix = enc(prefix);
  result.Upload = listed.map(u => ({
    Key: enc(u.key),
    UploadId: u.id,
    Initiator: owner,
    Owner: owner,
    StorageClass: 'STANDARD',
    Initiated: u.initiated.toISOString(),
  }));
  ctx.body = { ListMultipartUploadsResult: result };
}

// Before s3rver's routes: requests on an upload (?uploadId=), and
// ListMultipartUploads.
async function multipart(ctx) {
  const b = /^\/([^/]+)\/?$/.exec(ctx.path);
  if (b && ctx.method === 'GET' && 'uploads' in ctx.query) {
    await listUploads(ctx, decode(b[1]));
    return true;
  }
  const m = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  if (!m || !('uploadId' in ctx.query)) return false;
  const bucket = decode(m[1]);
  const key = decode(m[2]);
  const uploadId = ctx.query.uploadId;
  switch (ctx.method) {
    case 'DELETE': {
      const dir = await uploadDir(ctx.store, bucket, key, uploadId);
      await fs.remove(dir);
      ctx.status = 204;
      return true;
    }
    case 'PUT': {
      if ('x-amz-copy-source' in ctx.headers) return false;
      await uploadDir(ctx.store, bucket, key, uploadId);
      const n = ctx.query.partNumber;
      if (typeof n !== 'string' || !/^[1-9][0-9]{0,4}$/.test(n) || Number(n) > 10000) {
        throw new S3Error(
          'InvalidArgument',
          'Part number must be an integer between 1 and 10000, inclusive',
          { ArgumentName: 'partNumber', ArgumentValue: String(n) },
        );
      }
      return false;
    }
    case 'POST':
      await uploadDir(ctx.store, bucket, key, uploadId);
      return false;
    default:
      return false;
  }
}

const routes = router.routes.bind(router);
router.routes = router.middleware = function () {
  const dispatch = routes();
  return async function multipartThenRoutes(ctx, next) {
    if (await multipart(ctx)) return undefined;
    return dispatch(ctx, next);
  };
};

const putObjectMultipart = FilesystemStore.prototype.putObjectMultipart;
FilesystemStore.prototype.putObjectMultipart = async function (bucket, uploadId, parts) {
  const dir = path.join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  for (let i = 1; i < parts.length; i++) {
    if (!(parts[i].number > parts[i - 1].number)) {
      throw new S3Error(
        'InvalidPartOrder',
        'The list of parts was not in ascending order. The parts list must be ' +
          'specified in order by part number.',
      );
    }
  }
  const sizes = [];
  for (const part of parts) {
    const file = path.join(dir, String(part.number));
    let md5;
    try {
      md5 = (await fs.readFile(`${file}.md5`, 'utf8')).trim();
      sizes.push((await fs.stat(file)).size);
    } catch (err) {
      md5 = undefined;
    }
    if (md5 === undefined || md5 !== String(part.etag).toLowerCase()) {
      throw new S3Error(
        'InvalidPart',
        'One or more of the specified parts could not be found. The part may ' +
          "not have been uploaded, or the specified entity tag may not match " +
          "the part's entity tag.",
        { UploadId: uploadId, PartNumber: part.number, ETag: part.etag },
      );
    }
  }
  for (let i = 0; i < parts.length - 1; i++) {
    if (sizes[i] < MIN_PART_SIZE) {
      throw new S3Error(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
        { ProposedSize: sizes[i], MinSizeAllowed: MIN_PART_SIZE, PartNumber: parts[i].number },
      );
    }
  }
  return putObjectMultipart.call(this, bucket, uploadId, parts);
};
