import { startLab } from "./harness.ts";

const lab = await startLab(2);
console.log(lab.url, lab.adminToken, await lab.tokenFor("globex", "org-viewer"));
