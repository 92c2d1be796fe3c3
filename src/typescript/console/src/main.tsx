import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { usersClient } from "./api";
import { tabSession } from "./session";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
const session = tabSession();
createRoot(root).render(
  <StrictMode>
    <App client={usersClient(session.token)} session={session} />
  </StrictMode>,
);
