#include "build/image_import.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <sstream>
#include <stdexcept>

namespace e2b_local {
namespace {

constexpr const char kConfigMarker[] = "E2B-IMAGE-CONFIG ";

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name.front() == '/' ||
      name.back() == '/') {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '/' || c == '-')) {
      return false;
    }
  }
  std::istringstream parts(name);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

bool ValidTag(const std::string& tag) {
  if (tag.empty() || tag.size() > 128) return false;
  for (char c : tag) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return tag != "." && tag != "..";
}

std::string Fingerprint(const struct stat& st) {
  return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
         std::to_string(st.st_ino);
}

}  // namespace

LocalImage FindLocalImage(const std::string& images_dir,
                          const std::string& ref) {
  std::string name = ref, tag = "latest";
  const auto colon = ref.rfind(':');
  if (colon != std::string::npos && ref.find('/', colon) == std::string::npos) {
    name = ref.substr(0, colon);
    tag = ref.substr(colon + 1);
  }
  if (!ValidName(name) || !ValidTag(tag)) {
    throw std::runtime_error("image '" + ref +
                             "' is not a name[:tag] e2b-local can look up");
  }
  const std::string base = images_dir + "/" + name + ":" + tag;
  struct stat st {};
  if (::lstat((base + ".tar").c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    return LocalImage{base + ".tar", false, Fingerprint(st)};
  }
  if (::lstat(base.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    struct stat index {};
    if (::lstat((base + "/index.json").c_str(), &index) != 0) {
      throw std::runtime_error(base + " is not an OCI image layout (no " +
                               "index.json)");
    }
    return LocalImage{base, true, Fingerprint(index)};
  }
  throw std::runtime_error(
      "cannot pull image '" + ref +
      "': e2b-local builds offline and reaches no registry. Put the image in " +
      images_dir + " as " + name + ":" + tag +
      ".tar (docker save, or skopeo copy to docker-archive: or "
      "oci-archive:) or as the OCI layout directory " +
      name + ":" + tag +
      ", or build FromTemplate or FromBaseImage (e2bdev/base)");
}

ImageConfig ParseImageConfig(const std::string& output) {
  const auto at = output.rfind(kConfigMarker);
  if (at == std::string::npos || (at != 0 && output[at - 1] != '\n')) {
    throw std::runtime_error("the image import printed no config");
  }
  std::string line = output.substr(at + sizeof kConfigMarker - 1);
  line = line.substr(0, line.find('\n'));
  ImageConfig config;
  try {
    const auto doc = nlohmann::json::parse(line);
    for (const auto& item : doc.at("env")) {
      const std::string kv = item.get<std::string>();
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) continue;
      config.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    config.workdir = doc.at("workdir").get<std::string>();
    std::string user = doc.at("user").get<std::string>();
    user = user.substr(0, user.find(':'));
    config.user = user.empty() || user == "0" ? "root" : user;
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("the image's config is malformed: ") +
                             e.what());
  }
  return config;
}

const char kImageImportScript[] = R"py(
import json, os, shutil, sys, tarfile

archive, ref = sys.argv[1], sys.argv[2]
last = ref.rsplit('/', 1)[-1]
tag = last.rsplit(':', 1)[1] if ':' in last else 'latest'
work, root = '/tmp/e2b-image-src', '/e2b-image-root'


def fail(message):
    print('image ' + ref + ': ' + message, file=sys.stderr)
    sys.exit(1)


def clean(name):
    parts = [p for p in name.split('/') if p not in ('', '.')]
    if not parts or '..' in parts:
        return None
    return '/'.join(parts)


if os.path.isdir(archive):
    fail('internal: expected an archive')
os.makedirs(work)
try:
    with tarfile.open(archive) as outer:
        for m in outer:
            n = clean(m.name)
            if n is None or not (m.isfile() or m.isdir()):
                continue
            m.name = n
            outer.extract(m, work, set_attrs=False)
except (tarfile.TarError, OSError) as e:
    fail('cannot unpack the archive: ' + str(e))
os.unlink(archive)


def load(path, limit=4 << 20):
    full = os.path.join(work, path)
    if not os.path.isfile(full):
        fail(path + ' is missing')
    if os.path.getsize(full) > limit:
        fail(path + ' is too large')
    try:
        with open(full) as f:
            return json.load(f)
    except ValueError as e:
        fail(path + ' is not JSON: ' + str(e))


def blob(digest):
    alg, _, hexd = str(digest).partition(':')
    if not alg.isalnum() or not hexd.isalnum():
        fail('bad digest ' + str(digest))
    return os.path.join('blobs', alg, hexd)


config, layers = {}, []
if os.path.exists(os.path.join(work, 'manifest.json')):
    entries = load('manifest.json')
    if not isinstance(entries, list) or not entries:
        fail('manifest.json lists no image')
    chosen = entries[0]
    for e in entries:
        tags = e.get('RepoTags') or []
        if ref in tags or any(t.rsplit(':', 1)[-1] == tag for t in tags):
            chosen = e
            break
    config = load(clean(chosen['Config']))
    layers = [clean(l) for l in chosen.get('Layers', [])]
elif os.path.exists(os.path.join(work, 'index.json')):
    index = load('index.json')
    manifests = index.get('manifests') or []
    named = [m for m in manifests
             if (m.get('annotations') or {}).get(
                 'org.opencontainers.image.ref.name') in (tag, ref)]
    if named:
        desc = named[0]
    elif len(manifests) == 1:
        desc = manifests[0]
    else:
        fail('the layout holds %d images and none is tagged %s'
             % (len(manifests), tag))
    for _ in range(4):
        doc = load(blob(desc['digest']))
        if doc.get('mediaType', desc.get('mediaType', '')).endswith(
                'image.index.v1+json') or 'manifests' in doc:
            subs = doc.get('manifests') or []
            amd64 = [m for m in subs
                     if (m.get('platform') or {}).get('architecture')
                     == 'amd64' and (m.get('platform') or {}).get('os')
                     == 'linux']
            if not subs:
                fail('an image index without images')
            desc = (amd64 or subs)[0]
            continue
        config = load(blob(doc['config']['digest']))
        layers = [blob(l['digest']) for l in doc.get('layers', [])]
        break
    else:
        fail('image indexes nest too deep')
else:
    fail('neither a docker-archive (manifest.json) nor an OCI layout '
         '(index.json)')

if any(l is None for l in layers):
    fail('a layer path is not usable')
handles = []
for l in layers:
    p = os.path.join(work, l)
    if not os.path.isfile(p):
        fail('layer ' + l + ' is missing')
    try:
        handles.append(tarfile.open(p, 'r:*'))
    except tarfile.TarError as e:
        fail('layer ' + l + ' is neither tar nor gzip (zstd layers are not '
             'supported): ' + str(e))

os.makedirs(root)
os.chroot(root)
os.chdir('/')


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


try:
    for t in handles:
        members = t.getmembers()
        # Whiteouts hide what the layers below put there.
        for m in members:
            n = clean(m.name)
            if n is None:
                continue
            d, b = os.path.split(n)
            if b == '.wh..wh..opq':
                target = '/' + d
                if os.path.isdir(target) and not os.path.islink(target):
                    for c in os.listdir(target):
                        remove(os.path.join(target, c))
            elif b.startswith('.wh.'):
                remove(os.path.join('/', d, b[4:]))
        for m in members:
            n = clean(m.name)
            if n is None or os.path.basename(n).startswith('.wh.'):
                continue
            if m.ischr() or m.isblk():
                continue
            m.name = n
            if m.islnk():
                target = clean(m.linkname)
                if target is None:
                    continue
                m.linkname = target
            dest = '/' + n
            keep_dir = m.isdir() and os.path.isdir(dest) and \
                not os.path.islink(dest)
            if os.path.lexists(dest) and not keep_dir:
                remove(dest)
            t.extract(m, '/', numeric_owner=True)
except (tarfile.TarError, OSError) as e:
    fail('cannot apply a layer: ' + str(e))

for d, mode in (('proc', 0o555), ('sys', 0o555), ('dev', 0o755),
                ('tmp', 0o1777), ('run', 0o755), ('etc', 0o755),
                ('home', 0o755), ('root', 0o700)):
    if not os.path.lexists('/' + d):
        os.mkdir('/' + d)
        os.chmod('/' + d, mode)


def has(path, name):
    try:
        with open(path) as f:
            return any(line.split(':', 1)[0] == name for line in f)
    except OSError:
        return False


def add(path, line):
    with open(path, 'a') as f:
        f.write(line + '\n')


shell = '/bin/bash' if os.path.exists('/bin/bash') else '/bin/sh'
if not has('/etc/passwd', 'root'):
    add('/etc/passwd', 'root:x:0:0:root:/root:' + shell)
if not has('/etc/group', 'root'):
    add('/etc/group', 'root:x:0:')
if not has('/etc/passwd', 'user'):
    add('/etc/passwd', 'user:x:1000:1000::/home/user:' + shell)
if not has('/etc/group', 'user'):
    add('/etc/group', 'user:x:1000:')
if not os.path.lexists('/home/user'):
    os.mkdir('/home/user')
    os.chown('/home/user', 1000, 1000)
if os.path.isdir('/etc/sudoers.d'):
    with open('/etc/sudoers.d/user', 'w') as f:
        f.write('user ALL=(ALL:ALL) NOPASSWD: ALL\n')
    os.chmod('/etc/sudoers.d/user', 0o440)

c = config.get('config') or {}
print('E2B-IMAGE-CONFIG ' + json.dumps({
    'env': c.get('Env') or [],
    'workdir': c.get('WorkingDir') or '',
    'user': c.get('User') or '',
}))
)py";

}  // namespace e2b_local
