"""The live dashboard: two organisations side by side, in lockstep, under the same shocks.

* ``settings``: what the presenter chose (world, both organisations, time unit), validated;
* ``lockstep``: the two models stepped and shocked together (plain Python, no UI);
* ``leadership``: KPI cards, recovery after each shock, the verdict sentence;
* ``charts`` and ``orgview``: the live figures; ``export``: CSV and PNG downloads;
* ``app``: the Solara page; ``server``: ``orgsim dashboard``; ``assets``: offline JavaScript and CSS.
"""
