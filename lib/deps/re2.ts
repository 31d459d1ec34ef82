/**
 * The one place the RE2 engine comes from: `re2js`, the JavaScript port of RE2 (pinned), whose matching takes
 * time linear in the text whatever the pattern. Imported only by lib/watch/pattern.ts, which the watcher loads
 * when a trigger has a pattern.
 * @module
 */
export { RE2JS } from "npm:re2js@2.10.0";
