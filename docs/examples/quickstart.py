# %% [markdown]
# # straits from Python: a run, an ensemble and a figure
#
# A percent-format script: open it in Jupyter (jupytext), VS Code or Spyder and run
# it cell by cell, or run it whole with `python docs/examples/quickstart.py`.
# The test suite runs it, so every line here works as written.

# %%
import straits

baseline = straits.load("baseline")
print(baseline.name, baseline.horizon / 1440, "days from", baseline.start)

# %% [markdown]
# ## Change the scenario in Python
# Dotted paths, exactly as `--set` and `--vary` take them on the command line:
# here two days with one French-border booth fewer at Dover.

# %%
booths = "terminals.dover.stages.french_border.booths"
fewer = straits.override(baseline, {"horizon": "2d",
                                    booths: baseline.terminals["dover"].stages[1].booths - 1})

# %% [markdown]
# ## One run: KPIs and tables

# %%
result = straits.run(fewer, seed=1)
south = result.kpis["directions"]["southbound"]
print(f"southbound: {south['crossed']:,} lorries crossed, "
      f"mean delay {south['delay_minutes']['mean']:.1f} min")
print(result.lorries.head())
queued = result.timeseries.query("kind != 'terminal'").groupby("minutes")["lorries"].sum()
print(f"most lorries queued outside the terminals at once: {queued.max():,.0f}")

# %% [markdown]
# ## An ensemble: the same scenario over independent replications

# %%
table = straits.ensemble(fewer, replications=4)
delay = table.set_index("kpi").loc["directions.southbound.delay_minutes.mean"]
print(f"southbound mean delay: {delay['mean']:.1f} min, "
      f"95% CI {delay['ci95_low']:.1f} to {delay['ci95_high']:.1f}")

# %% [markdown]
# ## A figure: the report's queue chart (plotly)

# %%
figure = result.figures()["queue_lorries"]
figure.write_html("queue.html", include_plotlyjs="cdn")  # or figure.show() in a notebook
print("queue chart written to queue.html")
