import { execFileSync } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import test from "ava";
import { isLoopbackAddress } from "../broker/access-control.ts";
import { Acl, filterCovers } from "../broker/acl.ts";
import { hashPassword, parsePasswordFile, setPassword, verifyPassword } from "../broker/password-file.ts";
import { tempDir } from "./helpers/mqtt-clients.ts";

function hasCommand(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
// With CI=true a missing Mosquitto fails the run instead of skipping.
const withMosquittoPasswd = hasCommand("mosquitto_passwd") || process.env.CI === "true" ? test : test.skip;

test("a $7$ hash verifies its own password and refuses another", async (t) => {
  const hash = await hashPassword("s3cret", 101);
  t.regex(hash, /^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
  t.true(await verifyPassword(hash, "s3cret"));
  t.false(await verifyPassword(hash, "s3cret "));
  t.false(await verifyPassword(hash, ""));
});

test("a Mosquitto 1.x $6$ hash (salted SHA-512) is accepted", async (t) => {
  // "$6$" + base64(salt) + "$" + base64(sha512(password + salt)), salt = "0123456789ab"
  const salt = Buffer.from("0123456789ab");
  const { createHash } = await import("node:crypto");
  const digest = createHash("sha512").update("pw").update(salt).digest("base64");
  t.true(await verifyPassword(`$6$${salt.toString("base64")}$${digest}`, "pw"));
  t.false(await verifyPassword(`$6$${salt.toString("base64")}$${digest}`, "pW"));
});

test("malformed or unknown hash formats never verify", async (t) => {
  for (const stored of [
    "",
    "plain",
    "$7$",
    "$7$x$AAAA$AAAA",
    "$7$101$$",
    "$5$abc$def",
    "$7$999999999$AAAA$AAAA",
  ]) {
    t.false(await verifyPassword(stored, "anything"), stored);
  }
});

test("a password file line without user:$7$ names its line number", (t) => {
  t.throws(() => parsePasswordFile("# users\nalice:$7$101$a$b\nbob:plain\n", "pw"), {
    code: "PASSWORD_FILE_INVALID",
    message: /^pw line 3: /,
  });
});

test("setPassword creates a 0600 file, replaces an existing user's entry and keeps other lines", async (t) => {
  const file = path.join(await tempDir(t), "passwd");
  await setPassword(file, "alice", "one", 101);
  t.is((await stat(file)).mode & 0o777, 0o600);
  await writeFile(file, `# broker users\n${await readFile(file, "utf8")}`);
  await setPassword(file, "bob", "two", 101);
  await setPassword(file, "alice", "three", 101);
  const text = await readFile(file, "utf8");
  t.is(text.split("\n")[0], "# broker users");
  const table = parsePasswordFile(text);
  t.deepEqual([...table.keys()], ["alice", "bob"]);
  t.true(await verifyPassword(table.get("alice") ?? "", "three"));
  t.true(await verifyPassword(table.get("bob") ?? "", "two"));
});

test("setPassword refuses a user name with a colon and an empty password", async (t) => {
  const file = path.join(await tempDir(t), "passwd");
  await t.throwsAsync(setPassword(file, "a:b", "x"), { code: "PASSWORD_FILE_INVALID" });
  await t.throwsAsync(setPassword(file, "alice", ""), { code: "PASSWORD_FILE_INVALID" });
});

withMosquittoPasswd(
  "an entry written by mosquitto_passwd verifies here, and mosquitto_passwd keeps ours when it rewrites the file",
  async (t) => {
    const file = path.join(await tempDir(t), "passwd");
    execFileSync("mosquitto_passwd", ["-c", "-b", file, "alice", "from-mosquitto"]);
    await setPassword(file, "bob", "from-pipdu");
    const table = parsePasswordFile(await readFile(file, "utf8"));
    t.true(await verifyPassword(table.get("alice") ?? "", "from-mosquitto"));
    t.regex(table.get("bob") ?? "", /^\$7\$10000\$/);
    // mosquitto_passwd rewrites the file (-U would re-hash plain text only): it must parse our entry without complaint.
    execFileSync("mosquitto_passwd", ["-b", file, "carol", "x"]);
    const after = parsePasswordFile(await readFile(file, "utf8"));
    t.is(after.get("bob"), table.get("bob"));
    t.true(await verifyPassword(after.get("bob") ?? "", "from-pipdu"));
  },
);

const aclText = `
# anonymous clients: read-only
topic read pipdu/#

user panel
topic write pipdu/+/outlet/+/set
topic read pipdu/+/outlet/+/state

user viewer
topic read pipdu/#
topic deny pipdu/+/secret

user admin
topic pipdu/#

pattern readwrite clients/%u/%c/#
`;

test("ACL: a read-only user may subscribe and receive but not publish", (t) => {
  const acl = Acl.parse(aclText);
  const viewer = { username: "viewer", clientId: "v1" };
  t.false(acl.canPublish(viewer, "pipdu/pdu1/outlet/3/set"));
  t.true(acl.canSubscribe(viewer, "pipdu/#"));
  t.true(acl.canRead(viewer, "pipdu/pdu1/outlet/3/state"));
});

test("ACL: the panel may publish set topics only, and read state topics only", (t) => {
  const acl = Acl.parse(aclText);
  const panel = { username: "panel", clientId: "panel-1" };
  t.true(acl.canPublish(panel, "pipdu/pdu1/outlet/3/set"));
  t.false(acl.canPublish(panel, "pipdu/pdu1/outlet/3/state"));
  t.false(acl.canPublish(panel, "pipdu/pdu1/availability"));
  t.true(acl.canSubscribe(panel, "pipdu/+/outlet/+/state"));
  t.false(acl.canSubscribe(panel, "pipdu/#"));
  t.false(acl.canRead(panel, "pipdu/pdu1/telemetry"));
});

test("ACL: a deny line wins over a broader grant", (t) => {
  const acl = Acl.parse(aclText);
  const viewer = { username: "viewer", clientId: "v1" };
  t.false(acl.canRead(viewer, "pipdu/pdu1/secret"));
  t.false(acl.canSubscribe(viewer, "pipdu/pdu1/secret"));
});

test("ACL: access defaults to readwrite; topic lines before any user apply to anonymous clients only", (t) => {
  const acl = Acl.parse(aclText);
  t.true(acl.canPublish({ username: "admin", clientId: "a" }, "pipdu/pdu1/outlet/1/set"));
  t.true(acl.canRead({ username: null, clientId: "x" }, "pipdu/pdu1/info"));
  t.false(acl.canPublish({ username: null, clientId: "x" }, "pipdu/pdu1/outlet/1/set"));
  t.false(acl.canRead({ username: "stranger", clientId: "x" }, "pipdu/pdu1/info"));
});

test("ACL: pattern lines substitute %u and %c, and never match names that contain wildcards or slashes", (t) => {
  const acl = Acl.parse(aclText);
  t.true(acl.canPublish({ username: "viewer", clientId: "v1" }, "clients/viewer/v1/notes"));
  t.false(acl.canPublish({ username: "viewer", clientId: "v1" }, "clients/panel/v1/notes"));
  t.false(acl.canPublish({ username: null, clientId: "v1" }, "clients//v1/notes"));
  t.false(acl.canSubscribe({ username: "viewer", clientId: "#" }, "clients/viewer/#"));
  t.false(acl.canPublish({ username: "a/b", clientId: "c" }, "clients/a/b/c/x"));
});

test("ACL: a bad line names the file and line number", (t) => {
  t.throws(() => Acl.parse("user a\ntopic read pipdu/#/x\n", "acl"), {
    code: "ACL_FILE_INVALID",
    message: /^acl line 2: /,
  });
  t.throws(() => Acl.parse("topci read x\n", "acl"), {
    code: "ACL_FILE_INVALID",
    message: /^acl line 1: expected user, topic or pattern/,
  });
});

test("a subscription is covered only by a rule matching every topic it can match", (t) => {
  const covers = (rule: string, filter: string): boolean => filterCovers(rule.split("/"), filter.split("/"));
  t.true(covers("a/#", "a/+/c"));
  t.true(covers("a/#", "a"));
  t.true(covers("a/+/c", "a/b/c"));
  t.true(covers("#", "a/#"));
  t.false(covers("a/+/c", "a/#"));
  t.false(covers("a/b/c", "a/+/c"));
  t.false(covers("#", "$SYS/#"));
});

test("loopback addresses are 127.0.0.0/8 and ::1, plain or IPv4-mapped; anything else is not", (t) => {
  for (const address of ["127.0.0.1", "127.0.0.2", "127.255.0.9", "::1", "::ffff:127.0.0.1"])
    t.true(isLoopbackAddress(address), address);
  for (const address of [
    "192.0.2.2",
    "10.0.0.1",
    "::ffff:192.0.2.2",
    "fe80::1",
    "128.0.0.1",
    "::",
    "0.0.0.0",
    undefined,
  ]) {
    t.false(isLoopbackAddress(address), String(address));
  }
});
