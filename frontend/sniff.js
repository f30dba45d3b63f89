// What a file is, from its first bytes: the page's mirror of webapp/sniff.py, so a
// disguised or unknown file is refused before any byte is sent. The server checks again.

export const HEAD_BYTES = 512;

const ascii = (bytes, start, end) => String.fromCharCode(...bytes.subarray(start, end));
const startsWith = (bytes, values, at = 0) => values.every((value, i) => bytes[at + i] === value);

const HEIC_BRANDS = ["heic", "heix", "heim", "heis", "hevc", "hevx"];
const MP4_VIDEO_BRANDS = ["isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "dash", "M4V ", "MSNV", "3gp4", "3gp5", "mmp4"];
const MP4_AUDIO_BRANDS = ["M4A ", "M4B ", "isom", "mp42", "mp41", "dash"];

function ftypBrand(bytes) {
  return bytes.length >= 12 && ascii(bytes, 4, 8) === "ftyp" ? ascii(bytes, 8, 12) : null;
}

function ftypBrands(bytes) {
  const major = ftypBrand(bytes);
  if (major === null) return [];
  const boxSize = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  const end = Math.min(boxSize, bytes.length);
  const brands = [major];
  for (let i = 16; i + 4 <= end; i += 4) brands.push(ascii(bytes, i, i + 4));
  return brands;
}

const riff = (kind) => (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === kind;
const ebml = (b) => startsWith(b, [0x1a, 0x45, 0xdf, 0xa3]);
const ogg = (b) => ascii(b, 0, 4) === "OggS";

const SIGNATURES = {
  "image/png": (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  "image/jpeg": (b) => startsWith(b, [0xff, 0xd8, 0xff]),
  "image/gif": (b) => ["GIF87a", "GIF89a"].includes(ascii(b, 0, 6)),
  "image/webp": riff("WEBP"),
  "image/avif": (b) => ["avif", "avis"].includes(ftypBrand(b)),
  "image/heic": (b) => {
    const major = ftypBrand(b);
    return HEIC_BRANDS.includes(major) ||
      (["mif1", "msf1"].includes(major) && ftypBrands(b).some((brand) => HEIC_BRANDS.includes(brand)));
  },
  "image/heif": (b) => [...HEIC_BRANDS, "mif1", "msf1"].includes(ftypBrand(b)),
  "video/mp4": (b) => MP4_VIDEO_BRANDS.includes(ftypBrand(b)),
  "video/quicktime": (b) => ftypBrand(b) === "qt  " || ["moov", "mdat", "wide", "pnot"].includes(ascii(b, 4, 8)),
  "video/webm": ebml,
  "video/ogg": ogg,
  "audio/webm": ebml,
  "audio/mpeg": (b) => ascii(b, 0, 3) === "ID3" ||
    (b.length >= 2 && b[0] === 0xff && (b[1] & 0xe0) === 0xe0 && (b[1] & 0x06) !== 0),
  "audio/mp4": (b) => MP4_AUDIO_BRANDS.includes(ftypBrand(b)),
  "audio/ogg": ogg,
  "audio/wav": riff("WAVE"),
  "audio/x-wav": riff("WAVE"),
  "audio/flac": (b) => ascii(b, 0, 4) === "fLaC",
  "application/pdf": (b) => /^[\r\n\t ]*%PDF-/.test(ascii(b, 0, Math.min(b.length, 32))),
  "text/plain": plainText,
};

// Printable UTF-8 that does not open like a page or a script (a cut-off last character is fine).
function plainText(bytes) {
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, bytes.length - 3)) +
      new TextDecoder("utf-8").decode(bytes.subarray(bytes.length - 3)).replace(/\uFFFD/g, "");
  } catch {
    return false;
  }
  const opening = text.trimStart().toLowerCase();
  if (["<!doctype", "<html", "<script", "<?xml", "<svg"].some((start) => opening.startsWith(start))) return false;
  return !/[\u0000-\u0008\u000B\u000E-\u001F\u007F]/.test(text);
}

export function matches(type, bytes) {
  const check = SIGNATURES[type];
  return bytes.length > 0 && check !== undefined && check(bytes);
}

export function detect(bytes) {
  for (const [type, check] of Object.entries(SIGNATURES)) {
    if (type !== "text/plain" && check(bytes)) return type;
  }
  const text = ascii(bytes, 0, Math.min(bytes.length, 64)).trimStart().toLowerCase();
  if (text.startsWith("<!doctype html") || text.startsWith("<html") || text.startsWith("<script")) return "text/html";
  return null;
}

function extensionOf(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

// The type the file will be stored as, as the server decides it (webapp/rules.py):
// aliases by their one name, and an unknown browser type from the extension.
export function declaredType(name, browserType, config) {
  let type = (browserType || "").split(";")[0].trim().toLowerCase();
  type = config.aliases[type] || type;
  if (config.unknownTypes.includes(type)) {
    const extension = extensionOf(name);
    const found = Object.keys(config.types).find((allowed) => config.types[allowed].includes(extension));
    if (found) type = found;
  }
  return type;
}

// Why this file cannot be sent, or null: an unknown type, or bytes that are something else.
export async function refusal(file, config) {
  const type = declaredType(file.name, file.type, config);
  if (!(type in config.types)) {
    return `${file.name} was not added: ${config.viaLink ? "this link" : "this site"} takes only ${config.allowedText}.`;
  }
  const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
  if (!matches(type, head)) {
    const found = detect(head);
    return `${file.name} was not added: it is ${found ? found : "something else"} inside, not ${type}.`;
  }
  return null;
}
